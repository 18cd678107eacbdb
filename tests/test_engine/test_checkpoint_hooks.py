# Copyright (c) glore_mm contributors. All rights reserved.
"""AtomicCheckpointHook against MMEngine's CheckpointHook, with writes that
fail halfway (a full disk) and a process killed in the middle of a save."""
import builtins
import signal
import sys
from pathlib import Path
from typing import List, Optional

import pytest
import torch

from glore_mm.utils.fileio import PARTIAL_SUFFIX
from tests.tool_runner import run_tool
from tests.toy_training import toy_config, train


def _files(work_dir: Path) -> List[str]:
    """The files of a work_dir but the config dump (named by the time)."""
    return sorted(p.name for p in work_dir.iterdir()
                  if p.is_file() and p.suffix != '.py')


def _last_checkpoint_loads(work_dir: Path) -> Optional[int]:
    """The iteration of the checkpoint ``last_checkpoint`` names, or None
    if it names nothing loadable."""
    try:
        last = (work_dir / 'last_checkpoint').read_text().strip()
        return torch.load(last)['meta']['iter']
    except Exception:  # an empty name, a missing or truncated file
        return None


def _truncated(work_dir: Path) -> List[str]:
    """Checkpoints with their final name that do not load."""
    broken = []
    for path in sorted(work_dir.glob('*.pth')):
        try:
            torch.load(path)
        except Exception:
            broken.append(path.name)
    return broken


@pytest.mark.parametrize('max_keep', [-1, 2])
def test_same_files_as_checkpoint_hook(tmp_path, max_keep):
    """Interval, max_keep_ckpts, save_best and last_checkpoint as MMEngine
    has them."""
    results = {}
    for hook_type in ('CheckpointHook', 'AtomicCheckpointHook'):
        work_dir = tmp_path / hook_type
        checkpoint = dict(
            type=hook_type,
            interval=2,
            max_keep_ckpts=max_keep,
            save_best='error',
            rule='less')
        train(
            toy_config(work_dir, length=8, interval=2, checkpoint=checkpoint))
        last = (work_dir / 'last_checkpoint').read_text()
        hub = torch.load(work_dir / 'iter_8.pth')['message_hub']
        results[hook_type] = (_files(work_dir),
                              Path(last).relative_to(work_dir),
                              hub['runtime_info'].get('keep_ckpt_ids'),
                              Path(hub['runtime_info']['best_ckpt']).name)
    assert results['AtomicCheckpointHook'] == results['CheckpointHook']
    files, last, _, best = results['AtomicCheckpointHook']
    assert str(last) == 'iter_8.pth' and best in files
    if max_keep == 2:
        assert [f for f in files
                if f.startswith('iter_')] == ['iter_6.pth', 'iter_8.pth']


@pytest.mark.parametrize('hook_type',
                         ['CheckpointHook', 'AtomicCheckpointHook'])
@pytest.mark.parametrize('part, max_keep', [('iter_8', -1), ('iter_8', 1),
                                            ('last_checkpoint', -1)])
def test_write_failing_halfway(tmp_path, monkeypatch, hook_type, part,
                               max_keep):
    """The disk fills up while iter_8.pth or last_checkpoint is written.

    MMEngine's hook then leaves a truncated iter_8.pth, a last_checkpoint
    naming the iter_4.pth it already deleted, or a truncated
    last_checkpoint; AtomicCheckpointHook leaves last_checkpoint naming a
    loadable iter_4.pth and nothing truncated.
    """
    monkeypatch.setattr(builtins, 'open', builtins.open)  # put back after
    work_dir = tmp_path / 'work'
    checkpoint = dict(type=hook_type, interval=4, max_keep_ckpts=max_keep)
    failing = dict(type='FaultToyFailingWrites', part=part, at_iter=4)
    with pytest.raises(OSError, match='No space left'):
        train(
            toy_config(
                work_dir, checkpoint=checkpoint, custom_hooks=[failing]))
    monkeypatch.undo()
    intact = (
        _last_checkpoint_loads(work_dir) == 4 and not _truncated(work_dir))
    assert intact == (hook_type == 'AtomicCheckpointHook')
    if intact:
        assert not list(work_dir.glob(f'.*{PARTIAL_SUFFIX}'))
        assert ('iter_8.pth' in _files(work_dir)) == (part != 'iter_8')


KILLED_RUN = '''
import sys
from tests.toy_training import toy_config, train
train(toy_config(sys.argv[1], custom_hooks=[dict(
    type='FaultToyFailingWrites', part='iter_8', at_iter=4, kill=True)]))
'''


def test_killed_during_save(tmp_path):
    """SIGKILL while half of iter_8.pth is written: last_checkpoint names
    iter_4.pth, and resuming removes the partial file and finishes."""
    work_dir = tmp_path / 'work'
    result = run_tool([sys.executable, '-c', KILLED_RUN, work_dir],
                      cwd=tmp_path,
                      ok=False)
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]
    partial = list(work_dir.glob(f'.iter_8.pth.*{PARTIAL_SUFFIX}'))
    assert len(partial) == 1 and partial[0].stat().st_size > 0
    assert 'iter_8.pth' not in _files(work_dir)
    assert _last_checkpoint_loads(work_dir) == 4
    assert not _truncated(work_dir)

    train(toy_config(work_dir, resume=True))
    assert not partial[0].exists()
    assert _last_checkpoint_loads(work_dir) == 12
