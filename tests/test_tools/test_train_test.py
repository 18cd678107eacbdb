# Copyright (c) glore_mm contributors. All rights reserved.
"""End-to-end runs of tools/{train,test}.py and the launcher scripts.

Everything runs on the CPU: the tiny GloRe-FCN config on a generated tiny
Cityscapes tree, single-process and with two gloo ranks (torchrun and a fake
``srun``). One training run is shared by the tests that need a checkpoint.
How every tool refuses a wrong checkpoint: test_checkpoint_refusals.py.
"""
import importlib.util
import json
import os
import os.path as osp
import pickle
import re
import shutil
import stat
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

import numpy as np
import pytest
import torch

from tests.tiny_runs import IMAGE_SIZE, NUM_VAL, SEG_CONFIG
from tests.tool_runner import TOOLS, free_port, log_text, run_tool, tool_env

METRIC = re.compile(r'mIoU: (\d+\.\d+)')
# In each line that says the tool added a hook the config does not declare.
ADDITION = 'does not declare'
# An upstream config, with none of our hooks: plain FCN-R18-D8.
UPSTREAM_CONFIG = 'mmseg::fcn/fcn_r18-d8_4xb2-80k_cityscapes-512x1024.py'


def _cfg_options(data_root: Path,
                 max_iters: int = 4,
                 val_interval: int = 2,
                 ckpt_interval: int = 2,
                 train_root: Optional[Path] = None) -> List[str]:
    """Data root and a short schedule, as ``--cfg-options``."""
    return [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={train_root or data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={val_interval}',
        f'default_hooks.checkpoint.interval={ckpt_interval}',
        'default_hooks.logger.interval=1',
    ]


def _train_lines(text: str) -> List[int]:
    """Iterations of the ``Iter(train) [i/n]`` log lines."""
    return [int(i) for i in re.findall(r'Iter\(train\) \[\s*(\d+)/', text)]


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    """Working directory of every run (mmengine writes .dist_test here)."""
    return tmp_path_factory.mktemp('tools')


class TrainRun(NamedTuple):
    work_dir: Path
    stdout: str


@pytest.fixture(scope='module')
def trained(base: Path, cityscapes: Path) -> TrainRun:
    """Train 4 iterations in one process, validating and saving every 2."""
    work_dir = base / 'train'
    cmd = [
        sys.executable, TOOLS / 'train.py', SEG_CONFIG, '--work-dir', work_dir,
        *_cfg_options(
            cityscapes, max_iters=4, val_interval=2, ckpt_interval=2)
    ]
    return TrainRun(work_dir, run_tool(cmd, cwd=base).stdout)


def test_train_single_process(trained):
    work_dir = trained.work_dir
    log = log_text(work_dir)
    assert _train_lines(log) == [1, 2, 3, 4]
    # LoggerHook's training lines carry an ETA.
    train_lines = [ln for ln in log.splitlines() if 'Iter(train)' in ln]
    assert all('eta:' in ln for ln in train_lines), train_lines
    # Validation after iterations 2 and 4, with IoUMetric's mIoU.
    assert len(re.findall(r'Iter\(val\) \[2/2\]\s+aAcc', log)) == 2
    assert len(METRIC.findall(log)) == 2
    assert 0.0 <= float(METRIC.findall(log)[-1]) <= 100.0
    # The progress bar reached the last validation batch.
    assert f'{NUM_VAL}/{NUM_VAL}, ' in trained.stdout
    for it in (2, 4):
        assert (work_dir / f'iter_{it}.pth').is_file()
    last = (work_dir / 'last_checkpoint').read_text().strip()
    assert Path(last) == work_dir / 'iter_4.pth'
    # The config declares the hooks: the tool adds nothing, says nothing.
    assert ADDITION not in log and ADDITION not in trained.stdout
    dumped = (work_dir / SEG_CONFIG.name).read_text()
    for hook in ('TestProgressBarHook', 'RandomStateHook',
                 'AtomicCheckpointHook'):
        assert hook in dumped
    assert 'glore_mm.engine' not in dumped


def test_checkpoint_loads_with_weights_only(trained):
    from mmengine.logging import HistoryBuffer

    import glore_mm  # noqa: F401  (importing it installs the allowlist)
    ckpt = trained.work_dir / 'iter_4.pth'
    # Without the allowlist, torch's default weights_only load refuses it.
    cmd = [sys.executable, '-c', f'import torch; torch.load({str(ckpt)!r})']
    result = run_tool(cmd, cwd=trained.work_dir, ok=False)
    assert result.returncode != 0
    assert 'HistoryBuffer' in result.stderr
    checkpoint = torch.load(ckpt)  # weights_only=True by default
    assert checkpoint['meta']['iter'] == 4
    buffers = checkpoint['message_hub']['log_scalars']
    assert isinstance(buffers['train/loss'], HistoryBuffer)
    assert len(buffers['train/loss'].data[0]) == 4


def _upstream_options(data_root: Path) -> List[str]:
    """mmseg's FCN-R18-D8 shrunk as the tiny GloRe config is (8 base
    channels, 32x64 crops of the tiny images, no pretrained weights), 2
    iterations, no validation."""
    shrink = [
        'model.pretrained=None',
        'model.backbone.stem_channels=8',
        'model.backbone.base_channels=8',
        'model.decode_head.in_channels=64',
        'model.decode_head.channels=16',
        'model.auxiliary_head.in_channels=32',
        'model.auxiliary_head.channels=8',
        'model.data_preprocessor.size=(32,64)',
        'train_dataloader.dataset.pipeline.2.scale=(128,64)',
        'train_dataloader.dataset.pipeline.3.crop_size=(32,64)',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
    ]
    return [*_cfg_options(data_root, max_iters=2, val_interval=1000), *shrink]


@pytest.fixture(scope='module')
def upstream_trained(base: Path, cityscapes: Path) -> TrainRun:
    """tools/train.py on an upstream config: the FCN baseline."""
    work_dir = base / 'upstream'
    cmd = [
        sys.executable, TOOLS / 'train.py', UPSTREAM_CONFIG, '--work-dir',
        work_dir, *_upstream_options(cityscapes)
    ]
    return TrainRun(work_dir, run_tool(cmd, cwd=base).stdout)


def test_train_adds_what_an_upstream_config_lacks(upstream_trained):
    """One line per addition, in the run's log, naming what and why."""
    work_dir = upstream_trained.work_dir
    log = log_text(work_dir)
    added = [line for line in log.splitlines() if ADDITION in line]
    assert len(added) == 3, added
    for line, what in zip(added, [
            'custom_hooks: added TestProgressBarHook',
            'custom_hooks: added RandomStateHook',
            'default_hooks.checkpoint: CheckpointHook became '
            'AtomicCheckpointHook'
    ]):
        assert what in line and 'WARNING' in line
    assert 'glore_mm.engine added to custom_imports' in added[0]
    assert _train_lines(log) == [1, 2]
    checkpoint = torch.load(work_dir / 'iter_2.pth')
    assert len(checkpoint['meta']['random_states']) == 1
    dumped = (work_dir / 'fcn_r18-d8_4xb2-80k_cityscapes-512x1024.py')
    for name in ('TestProgressBarHook', 'RandomStateHook',
                 'AtomicCheckpointHook', 'glore_mm.engine'):
        assert name in dumped.read_text()


class _Payload:
    """Pickles as a call that creates ``marker`` when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (shutil.copyfile, (__file__, self.marker))


def test_checkpoint_with_arbitrary_object_is_refused(trained, base,
                                                     cityscapes):
    import glore_mm  # noqa: F401  (importing it installs the allowlist)
    checkpoint = torch.load(trained.work_dir / 'iter_4.pth')
    marker = base / 'payload_ran'
    checkpoint['meta']['payload'] = _Payload(marker)
    evil = base / 'evil.pth'
    torch.save(checkpoint, evil)
    # The payload is live: a full unpickle runs it.
    torch.load(evil, weights_only=False)
    assert marker.is_file()
    marker.unlink()

    cmd = [
        sys.executable, TOOLS / 'test.py', SEG_CONFIG, evil, '--work-dir',
        base / 'evil_test', *_cfg_options(cityscapes)
    ]
    result = run_tool(cmd, cwd=base, ok=False)
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert f'test.py: error: checkpoint {str(evil)!r} holds objects' in error
    assert 'Unsupported global: GLOBAL shutil.copyfile' in error
    assert not marker.exists()


def test_resume_continues_from_last_checkpoint(trained, base, cityscapes):
    work_dir = base / 'resume'
    shutil.copytree(trained.work_dir, work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_4.pth'))
    cmd = [
        sys.executable, TOOLS / 'train.py', SEG_CONFIG, '--resume',
        '--work-dir', work_dir, *_cfg_options(
            cityscapes, max_iters=6, val_interval=2, ckpt_interval=2)
    ]
    result = run_tool(cmd, cwd=base)
    out = result.stdout
    assert f'Auto resumed from the latest checkpoint {work_dir}' in out
    assert re.search(r'resumed epoch: \d+, iter: 4\b', out)
    assert _train_lines(out) == [5, 6]
    assert (work_dir / 'iter_6.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(
        work_dir / 'iter_6.pth')


def test_dist_train_two_cpu_ranks(base, cityscapes):
    work_dir = base / 'dist_train'
    cmd = [
        TOOLS / 'dist_train.sh', SEG_CONFIG, 2, '--work-dir', work_dir,
        *_cfg_options(
            cityscapes, max_iters=2, val_interval=2, ckpt_interval=2)
    ]
    result = run_tool(cmd, cwd=base, env=tool_env(PORT=free_port()))
    # Every rank reports itself on stdout.
    for rank in (0, 1):
        assert f'rank {rank}/2 (gloo, cpu)' in result.stdout
    log = log_text(work_dir)
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log
    converted = re.search(
        r'CUDA is not available: (\d+) SyncBN layers were converted to BN',
        log)
    assert converted and int(converted.group(1)) > 0
    assert ('2 processes joined: rank 0/2 (gloo, cpu), '
            'rank 1/2 (gloo, cpu)') in log
    assert _train_lines(log) == [1, 2]
    assert METRIC.search(log)
    assert (work_dir / 'iter_2.pth').is_file()


class ToolTestRun(NamedTuple):
    stdout: str
    out_dir: Path
    show_dir: Path


@pytest.fixture(scope='module')
def tested(trained, base, cityscapes) -> ToolTestRun:
    """tools/test.py on the trained checkpoint, predictions and drawings
    saved. Testing, drawing included, never touches the training set."""
    ckpt = trained.work_dir / 'iter_4.pth'
    out_dir, show_dir = base / 'preds', base / 'show'
    cmd = [
        sys.executable, TOOLS / 'test.py', SEG_CONFIG, ckpt, '--work-dir',
        base / 'test', '--out', out_dir, '--show-dir', show_dir,
        *_cfg_options(cityscapes, train_root=base / 'no_train_data')
    ]
    return ToolTestRun(run_tool(cmd, cwd=base).stdout, out_dir, show_dir)


def _label_maps(out_dir: Path) -> Dict[str, np.ndarray]:
    """The predicted label maps tools/test.py saved, by image name."""
    from PIL import Image
    maps = {}
    for pred in sorted(out_dir.glob('*.png')):
        with Image.open(pred) as img:
            maps[pred.name] = np.array(img)
    return maps


def test_test_tool_predictions_and_drawings(trained, tested, cityscapes):
    ckpt = trained.work_dir / 'iter_4.pth'
    result, out_dir, show_dir = tested
    assert f'Load checkpoint from {ckpt}' in result
    assert re.search(r'Iter\(test\) \[2/2\]\s+aAcc', result)
    assert METRIC.search(result)
    assert f'{NUM_VAL}/{NUM_VAL}, ' in result
    val_images = sorted(
        p.name.replace('_leftImg8bit.png', '')
        for p in (cityscapes / 'leftImg8bit' / 'val').rglob('*.png'))
    preds = sorted(out_dir.glob('*.png'))
    assert [p.name.replace('_leftImg8bit.png', '')
            for p in preds] == val_images
    from PIL import Image
    for pred in preds:
        with Image.open(pred) as img:
            assert img.size == IMAGE_SIZE[::-1]  # PIL: width, height
    drawings = sorted(show_dir.rglob('*.png'))
    assert len(drawings) == NUM_VAL
    assert all(d.stat().st_size > 0 for d in drawings)


def test_test_tool_metrics_and_dump(trained, tested, base, cityscapes):
    """mmpretrain's --out FILE --out-item metrics writes the metrics the
    test printed; mmaction's --dump keeps the predictions."""
    metrics, dump = base / 'metrics' / 'test.json', base / 'dumped.pkl'
    cmd = [
        sys.executable, TOOLS / 'test.py', SEG_CONFIG,
        trained.work_dir / 'iter_4.pth', '--work-dir', base / 'metrics_test',
        '--out', metrics, '--out-item', 'metrics', '--dump', dump,
        *_cfg_options(cityscapes)
    ]
    result = run_tool(cmd, cwd=base)
    written = json.loads(metrics.read_text())
    # the log prints 4 decimals of mmseg's float32 value
    assert written['mIoU'] == pytest.approx(
        float(METRIC.findall(tested.stdout)[-1]), abs=5e-5)
    assert METRIC.findall(result.stdout) == METRIC.findall(tested.stdout)
    with open(dump, 'rb') as f:
        results = pickle.load(f)  # our own file, written just now
    assert len(results) == NUM_VAL


def test_dist_test_two_cpu_ranks_dumps_results(trained, tested, base,
                                               cityscapes):
    ckpt = trained.work_dir / 'iter_4.pth'
    dump = base / 'dist_results.pkl'
    cmd = [
        TOOLS / 'dist_test.sh', SEG_CONFIG, ckpt, 2, '--work-dir',
        base / 'dist_test', '--out', dump, *_cfg_options(cityscapes)
    ]
    result = run_tool(cmd, cwd=base, env=tool_env(PORT=free_port()))
    for rank in (0, 1):
        assert f'rank {rank}/2 (gloo, cpu)' in result.stdout
    assert METRIC.search(result.stdout)
    with open(dump, 'rb') as f:
        results = pickle.load(f)  # our own file, written just now
    assert len(results) == NUM_VAL
    assert all(r['pred_sem_seg']['data'].shape[-2:] == IMAGE_SIZE
               for r in results)
    # the two ranks predict what one process predicts, image for image
    single = _label_maps(tested.out_dir)
    assert len(single) == NUM_VAL
    for r in results:
        name = Path(r['img_path']).name
        np.testing.assert_array_equal(r['pred_sem_seg']['data'][0].numpy(),
                                      single[name])
    assert METRIC.findall(result.stdout) == METRIC.findall(tested.stdout)


def test_mmseg_packaged_test_tool(trained, tested, base, cityscapes):
    """mmseg's own tool loads our checkpoint (importing glore_mm, the
    config's custom_imports, allowlists MMEngine checkpoints), finds every
    key, units included, and measures what tools/test.py measures."""
    spec = importlib.util.find_spec('mmseg')
    assert spec is not None and spec.submodule_search_locations
    tool = Path(spec.submodule_search_locations[0]) / '.mim/tools/test.py'
    assert tool.is_file()
    cmd = [
        sys.executable, tool, SEG_CONFIG, trained.work_dir / 'iter_4.pth',
        '--work-dir', base / 'mmseg_test', *_cfg_options(cityscapes)
    ]
    result = run_tool(cmd, cwd=base)
    output = result.stdout + result.stderr
    assert 'missing keys' not in output
    assert 'unexpected key' not in output
    assert METRIC.findall(result.stdout) == METRIC.findall(tested.stdout)
    assert len(METRIC.findall(tested.stdout)) == 1


NO_VIS_HOOK = [
    '--show-dir', 'vis', '--cfg-options', 'default_hooks.visualization=None'
]
NO_TTA = ['--tta', '--cfg-options', 'tta_pipeline=None']


@pytest.mark.parametrize('args, message', [
    (NO_VIS_HOOK, '--show-dir needs default_hooks.visualization in'),
    (NO_TTA, '--tta needs tta_pipeline and tta_model in'),
])
def test_test_tool_clear_errors(base, args, message):
    cmd = [sys.executable, TOOLS / 'test.py', SEG_CONFIG, 'missing.pth', *args]
    result = run_tool(cmd, cwd=base, ok=False)
    assert result.returncode == 2
    assert f'test.py: error: {message}' in result.stderr
    assert str(SEG_CONFIG) in result.stderr


def test_train_tool_refuses_an_argument_of_another_library(base):
    """mmseg configs have no base batch size for --auto-scale-lr (a flag of
    mmpretrain's, mmaction's and mmdet's tools): named, with the library."""
    cmd = [sys.executable, TOOLS / 'train.py', SEG_CONFIG, '--auto-scale-lr']
    result = run_tool(cmd, cwd=base, ok=False)
    assert result.returncode == 2
    assert ('train.py: error: --auto-scale-lr needs '
            f"auto_scale_lr.base_batch_size in {SEG_CONFIG} (library "
            "'mmseg')") in result.stderr


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


FAKE_SRUN = r'''#!/usr/bin/env bash
# Fake srun: record the arguments, start --ntasks tasks on this machine.
echo "$@" > "$(dirname "$0")/srun_args"
ntasks=1
while [[ $# -gt 0 && $1 == -* ]]; do
    case $1 in --ntasks=*) ntasks=${1#--ntasks=} ;; esac
    shift
done
pids=()
for ((i = 0; i < ntasks; i++)); do
    SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks \
    SLURM_NODELIST=fake-node "$@" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
'''

FAKE_SCONTROL = r'''#!/usr/bin/env bash
# Fake scontrol: `scontrol show hostname NODELIST` -> this machine.
echo "$@" > "$(dirname "$0")/scontrol_args"
echo 127.0.0.1
'''


@pytest.fixture(scope='module')
def fake_slurm(base: Path) -> Path:
    """A folder with fake ``srun`` and ``scontrol`` to put on PATH."""
    bin_dir = base / 'fake_slurm'
    bin_dir.mkdir()
    _write_executable(bin_dir / 'srun', FAKE_SRUN)
    _write_executable(bin_dir / 'scontrol', FAKE_SCONTROL)
    return bin_dir


def _slurm_env(bin_dir: Path, tasks: int) -> Dict[str, str]:
    return tool_env(
        PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
        MASTER_PORT=free_port(),
        GPUS=str(tasks),
        GPUS_PER_NODE=str(tasks),
        CPUS_PER_TASK='1',
        GRES='none')


def test_slurm_train_two_cpu_tasks(base, cityscapes, fake_slurm):
    work_dir = base / 'slurm_train'
    cmd = [
        TOOLS / 'slurm_train.sh', 'cpu', 'glore', SEG_CONFIG, work_dir,
        *_cfg_options(
            cityscapes, max_iters=2, val_interval=10, ckpt_interval=2)
    ]
    result = run_tool(cmd, cwd=base, env=_slurm_env(fake_slurm, 2))
    srun_args = (fake_slurm / 'srun_args').read_text().split()
    for arg in ('--partition=cpu', '--job-name=glore', '--gres=none',
                '--ntasks=2', '--ntasks-per-node=2', '--cpus-per-task=1',
                f'--work-dir={work_dir}', '--launcher=slurm'):
        assert arg in srun_args
    # The master address came from `scontrol show hostname`.
    assert (fake_slurm / 'scontrol_args').read_text().split() == [
        'show', 'hostname', 'fake-node'
    ]
    for rank in (0, 1):
        assert f'rank {rank}/2 (gloo, cpu)' in result.stdout
    log = log_text(work_dir)
    assert 'Distributed launcher: slurm' in log
    assert _train_lines(log) == [1, 2]
    assert (work_dir / 'iter_2.pth').is_file()
    assert osp.getsize(work_dir / 'iter_2.pth') > 0


def test_slurm_test_one_cpu_task(trained, base, cityscapes, fake_slurm):
    ckpt = trained.work_dir / 'iter_4.pth'
    cmd = [
        TOOLS / 'slurm_test.sh', 'cpu', 'glore-test', SEG_CONFIG, ckpt,
        '--work-dir', base / 'slurm_test', *_cfg_options(cityscapes)
    ]
    result = run_tool(cmd, cwd=base, env=_slurm_env(fake_slurm, 1))
    srun_args = (fake_slurm / 'srun_args').read_text().split()
    for arg in ('--job-name=glore-test', '--ntasks=1', '--launcher=slurm',
                str(ckpt)):
        assert arg in srun_args
    assert 'rank 0/1 (gloo, cpu)' in result.stdout
    assert f'Load checkpoint from {ckpt}' in result.stdout
    assert METRIC.search(result.stdout)
