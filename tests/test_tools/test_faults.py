# Copyright (c) glore_mm contributors. All rights reserved.
"""Faults survived by the real tools on the tiny GloRe-FCN config.

A single-process run killed with SIGKILL after a checkpoint and resumed
with ``--resume`` ends with exactly the weights of an uninterrupted run,
with ``tools/train.py`` and with the ``train.py`` mmseg ships alike: the
config declares the hooks that make it so, whatever tool reads it. So does
an epoch-based detector, the tiny GloRe Mask R-CNN. In a
two-process ``tools/dist_train.sh`` run, a rank killed mid-run ends the
launcher with an error naming it, and nothing of the run is left behind.
"""
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import mmseg
import pytest
import torch

import glore_mm  # noqa: F401  (importing it installs the checkpoint allowlist)
from tests.test_mmdet.det_runs import (DET_CONFIG, det_options,
                                       make_detection_set)
from tests.tiny_runs import SEG_CONFIG
from tests.tool_runner import (TOOLS, TimeoutExpired, free_port, run_tool,
                               start_tool, tool_env, wait_for)

# The training tools that must resume exactly: ours and mmseg's own.
TRAIN_TOOLS = {
    'glore_mm': TOOLS / 'train.py',
    'mmseg': Path(mmseg.__file__).parent / '.mim' / 'tools' / 'train.py',
}
MAX_ITERS, INTERVAL, KILL_AFTER = 12, 4, 8
# A dead rank must end the launcher within this many seconds.
DEAD_RANK_LIMIT = 60
RANK_LINE = re.compile(r'rank (\d)/2 \(gloo, cpu\) on \S+ \(pid (\d+)\)')


def _options(data_root: Path, max_iters: int, interval: int) -> List[str]:
    """A schedule that validates and saves every ``interval`` iterations,
    seeded and with deterministic kernels."""
    return [
        '--cfg-options',
        *[
            f'{split}_dataloader.dataset.data_root={data_root}'
            for split in ('train', 'val', 'test')
        ],
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={interval}',
        f'param_scheduler.0.end={max_iters}',
        f'default_hooks.checkpoint.interval={interval}',
        'default_hooks.logger.interval=1',
        'randomness.seed=0',
        'randomness.deterministic=True',
    ]


def _train_lines(text: str) -> List[int]:
    return [int(i) for i in re.findall(r'Iter\(train\) \[\s*(\d+)/', text)]


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('faults')


def _weights(checkpoint: Path) -> Dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location='cpu')['state_dict']


def _differing(a: Path, b: Path) -> List[str]:
    """The tensors in which the weights of two checkpoints differ."""
    first, second = _weights(a), _weights(b)
    assert first.keys() == second.keys()
    return [k for k in first if not torch.equal(first[k], second[k])]


def _train_cmd(tool: str,
               work_dir: Path,
               options: List[str],
               resume: bool = False) -> List[str]:
    """Train with ``tool`` (a key of :data:`TRAIN_TOOLS`)."""
    return [
        sys.executable,
        str(TRAIN_TOOLS[tool]),
        str(SEG_CONFIG), *(['--resume'] if resume else []), '--work-dir',
        str(work_dir), *options
    ]


def _kill_after_checkpoint(cmd: List[str], cwd: Path, log: Path) -> None:
    """Run ``cmd``; SIGKILL it once the iteration after the checkpoint of
    iteration ``KILL_AFTER`` has trained (and is lost)."""
    with start_tool(cmd, cwd, log) as proc:
        # Iteration 9 has trained (and is lost) once its line is logged.
        wait_for(lambda: KILL_AFTER + 1 in _train_lines(log.read_text()), proc,
                 300, f'iteration {KILL_AFTER + 1}', log.read_text)
        os.kill(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert max(_train_lines(log.read_text())) < MAX_ITERS, 'killed too late'


@pytest.fixture(scope='module')
def uninterrupted(base: Path, cityscapes: Path) -> Dict[str, Path]:
    """The last checkpoint of an uninterrupted run of each training tool."""
    options = _options(cityscapes, MAX_ITERS, INTERVAL)
    last = {}
    for tool in TRAIN_TOOLS:
        work_dir = base / f'uninterrupted_{tool}'
        run_tool(_train_cmd(tool, work_dir, options), cwd=base)
        last[tool] = work_dir / f'iter_{MAX_ITERS}.pth'
    return last


@pytest.mark.parametrize('tool', list(TRAIN_TOOLS))
def test_resume_after_sigkill_is_exact(base, cityscapes, uninterrupted, tool):
    options = _options(cityscapes, MAX_ITERS, INTERVAL)
    cut_dir = base / f'killed_{tool}'
    _kill_after_checkpoint(
        _train_cmd(tool, cut_dir, options), base, base / f'killed_{tool}.out')
    last = cut_dir / f'iter_{KILL_AFTER}.pth'
    assert (cut_dir / 'last_checkpoint').read_text() == str(last)

    result = run_tool(
        _train_cmd(tool, cut_dir, options, resume=True), cwd=base)
    out = result.stdout
    assert f'Auto resumed from the latest checkpoint {last}' in out
    assert (f'random states of iteration {KILL_AFTER} are restored after '
            f'the {KILL_AFTER} trained batches are skipped') in out
    assert _train_lines(out) == list(range(KILL_AFTER + 1, MAX_ITERS + 1))

    resumed = cut_dir / f'iter_{MAX_ITERS}.pth'
    differ = _differing(uninterrupted[tool], resumed)
    assert not differ, f'{len(differ)} tensors differ: {differ[:5]}'


# The detector: 2 epochs of 2 iterations, a checkpoint per epoch, killed
# once the first iteration of epoch 2 has trained.
DET_EPOCHS = 2


def _epoch_lines(text: str) -> List[Tuple[int, int]]:
    """``(epoch, iteration)`` of every logged training line."""
    return [(int(epoch), int(i)) for epoch, i in re.findall(
        r'Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/', text)]


def _det_train_cmd(work_dir: Path,
                   data_root: Path,
                   resume: bool = False) -> List[str]:
    return [
        sys.executable,
        str(TOOLS / 'train.py'),
        str(DET_CONFIG), *(['--resume'] if resume else []), '--work-dir',
        str(work_dir), *det_options(data_root),
        f'train_cfg.max_epochs={DET_EPOCHS}',
        f'train_cfg.val_interval={DET_EPOCHS + 1}',
        'default_hooks.checkpoint.interval=1', 'randomness.seed=0',
        'randomness.deterministic=True'
    ]


def test_detector_resume_after_sigkill_is_exact(base):
    data_root = make_detection_set(base / 'detection')
    full_dir, cut_dir = base / 'det_uninterrupted', base / 'det_killed'
    run_tool(_det_train_cmd(full_dir, data_root), cwd=base)
    log = base / 'det_killed.out'
    with start_tool(_det_train_cmd(cut_dir, data_root), base, log) as proc:
        wait_for(lambda: (2, 1) in _epoch_lines(log.read_text()), proc, 300,
                 'iteration 1 of epoch 2', log.read_text)
        os.kill(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert (2, 2) not in _epoch_lines(log.read_text()), 'killed too late'
    last = cut_dir / 'epoch_1.pth'
    assert (cut_dir / 'last_checkpoint').read_text() == str(last)

    out = run_tool(
        _det_train_cmd(cut_dir, data_root, resume=True), cwd=base).stdout
    assert f'Auto resumed from the latest checkpoint {last}' in out
    assert 'random states of iteration 2 are restored now' in out
    assert _epoch_lines(out) == [(2, 1), (2, 2)]
    differ = _differing(full_dir / 'epoch_2.pth', cut_dir / 'epoch_2.pth')
    assert not differ, f'{len(differ)} tensors differ: {differ[:5]}'


def test_every_training_tool_gives_the_same_run(uninterrupted):
    """Our tool adds nothing to a config that declares the hooks, so mmseg's
    train.py trains the very same weights."""
    first, *others = uninterrupted.values()
    for other in others:
        differ = _differing(first, other)
        assert not differ, f'{len(differ)} tensors differ: {differ[:5]}'


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped, does not)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ('Z', 'X')


def _command_line(pid: int) -> str:
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except FileNotFoundError:
        return ''


def _descendants(pid: int) -> List[int]:
    """The processes below ``pid`` (children, grandchildren, ...)."""
    children: Dict[int, List[int]] = {}
    for entry in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{entry}/stat') as f:
                parent = int(f.read().rsplit(')', 1)[1].split()[1])
        except FileNotFoundError:  # the process just ended
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found.extend(below)
        todo.extend(below)
    return found


def _two_ranks_train(text: str) -> bool:
    """Both ranks said who they are and rank 0 logged iteration 3."""
    return len(RANK_LINE.findall(text)) == 2 and 3 in _train_lines(text)


def test_dead_rank_ends_the_launcher(base, cityscapes):
    """Also checks that the checkpoint of iteration 2 holds the random
    states of both ranks (seeded apart with ``diff_rank_seed``)."""
    victim = 1
    work_dir = base / 'dead_rank'
    cmd = [
        str(TOOLS / 'dist_train.sh'),
        str(SEG_CONFIG), '2', '--work-dir',
        str(work_dir), *_options(cityscapes, 1000, 1000),
        'default_hooks.checkpoint.interval=2', 'randomness.diff_rank_seed=True'
    ]
    log = base / 'dead_rank.out'
    with start_tool(cmd, base, log, tool_env(PORT=free_port())) as proc:
        run = [proc.pid]
        try:
            wait_for(lambda: _two_ranks_train(log.read_text()), proc, 300,
                     'training on two ranks', log.read_text)
            run += _descendants(proc.pid)
            ranks = {
                int(r): int(p)
                for r, p in RANK_LINE.findall(log.read_text())
            }
            assert set(ranks.values()) <= set(run)
            os.kill(ranks[victim], signal.SIGKILL)
            killed_at = time.monotonic()
            try:
                proc.wait(timeout=DEAD_RANK_LIMIT)
            except TimeoutExpired:
                pytest.fail(f'the launcher still runs {DEAD_RANK_LIMIT} s '
                            f'after rank {victim} was killed\n'
                            f'{log.read_text()[-4000:]}')
            elapsed = time.monotonic() - killed_at
            left = [pid for pid in run if _alive(pid)]
        finally:
            # Whatever the outcome, end every process of the run, children
            # first (each names the config: a reused pid belongs to someone
            # else).
            for pid in [*_descendants(proc.pid), *reversed(run)]:
                if _alive(pid) and str(SEG_CONFIG) in _command_line(pid):
                    os.kill(pid, signal.SIGKILL)
    text = log.read_text()
    assert proc.returncode != 0, text[-4000:]
    assert elapsed < DEAD_RANK_LIMIT
    # torchrun's report names the rank that died first.
    root_cause = text[text.find('Root Cause'):]
    assert re.search(rf'rank\s*:\s*{victim} \(local_rank: {victim}\)',
                     root_cause), text[-4000:]
    assert 'Signal 9 (SIGKILL)' in root_cause
    assert not left, f'processes of the run still alive: {left}'

    states = torch.load(work_dir / 'iter_2.pth')['meta']['random_states']
    assert len(states) == 2
    assert not torch.equal(states[0]['torch'], states[1]['torch'])
