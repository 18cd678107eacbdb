# Copyright (c) glore_mm contributors. All rights reserved.
"""Train and test GloRe I3D and C2D with the real tools on real video.

The tiny Kinetics-400 tree of ``make_tiny_kinetics.py`` (3 classes, 2
clips per class and split, cut from real H.264 videos) feeds the shrunk
configs of ``tests/data/configs/tiny_mmaction/``, which inherit the
Kinetics-400 configs of ``configs/mmaction/``. I3D trains one epoch with
``tools/train.py``, C2D with ``tools/dist_train.sh`` on two gloo ranks (the
session's ``c2d_trained``, which the video demo tests use too); both
checkpoints are then tested with ``tools/test.py`` and with mmaction's own
packaged ``test.py``, which must agree.
"""
import pickle
import re
import sys
from pathlib import Path
from typing import List

import mmaction
import pytest
import torch

from glore_mm.utils import allow_mmengine_checkpoints
from tests.tiny_runs import (NUM_CLASSES, NUM_VIDEOS, VIDEO_CONFIGS, TrainRun,
                             data_root_options)
from tests.tool_runner import TOOLS, log_text, run_tool, tool_env

# Blocks with a unit: the paper's "+2+3" in I3D R50 (the authors' res3
# blocks 1, 3 and res4 blocks 1, 3, 5, counted from 1), one per stage in C2D.
UNIT_SITES = {
    'i3d': ['layer2.0', 'layer2.2', 'layer3.0', 'layer3.2', 'layer3.4'],
    'c2d': ['layer2.1', 'layer3.1'],
}
MMACTION_TEST = Path(mmaction.__file__).parent / '.mim' / 'tools' / 'test.py'
TOP1 = re.compile(r'acc/top1: (\d+\.\d+)')


def _run(cmd: List, cwd: Path) -> str:
    """Run ``cmd`` with one OpenMP thread per process (the tensors are tiny;
    the CPU is shared); fail with its output on an error; return it."""
    result = run_tool(cmd, cwd, tool_env(OMP_NUM_THREADS='1'))
    return result.stdout + result.stderr


def _data_options(root: Path) -> List[str]:
    return ['--cfg-options', *data_root_options(root)]


def _train_iters(log: str) -> List[str]:
    return re.findall(r'Epoch\(train\) +\[1\]\[(\d+/\d+)\]', log)


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('mmaction_e2e')


@pytest.fixture(scope='module')
def i3d_trained(base: Path, kinetics: Path) -> TrainRun:
    """One epoch (3 iterations of 2 clips) with tools/train.py."""
    work_dir = base / 'i3d'
    output = _run([
        sys.executable, TOOLS / 'train.py', VIDEO_CONFIGS['i3d'], '--work-dir',
        work_dir, *_data_options(kinetics)
    ],
                  cwd=base)
    return TrainRun(work_dir, work_dir / 'epoch_1.pth', output)


def _check_checkpoint(run: TrainRun, name: str) -> None:
    """epoch_1.pth is the last checkpoint, with trained units at the
    expected blocks and nowhere else."""
    checkpoint = run.checkpoint
    assert checkpoint == run.work_dir / 'epoch_1.pth'
    assert checkpoint.is_file()
    last = (run.work_dir / 'last_checkpoint').read_text().strip()
    assert Path(last) == checkpoint
    allow_mmengine_checkpoints()  # torch.load's weights_only default
    state = torch.load(checkpoint, map_location='cpu')['state_dict']
    for site in UNIT_SITES[name]:
        gate = state[f'backbone.{site}.glore.norm.weight']
        assert torch.count_nonzero(gate) > 0, site
    sites = {
        k.split('.glore.')[0][len('backbone.'):]
        for k in state if '.glore.' in k
    }
    assert sites == set(UNIT_SITES[name])


def test_i3d_trains_with_train_py(i3d_trained):
    log = log_text(i3d_trained.work_dir)
    assert _train_iters(log) == ['1/3', '2/3', '3/3']
    assert 'Distributed training: False' in log
    top1 = TOP1.findall(log)
    assert len(top1) == 1 and 0 <= float(top1[0]) <= 1
    _check_checkpoint(i3d_trained, 'i3d')


def test_authors_recipe_trains_with_train_py(base, kinetics):
    """The authors' recipe: warm-up from 0.1x, Nesterov SGD, precise BN
    after the epoch, their augmentation, on real clips."""
    work_dir = base / 'authors'
    _run([
        sys.executable, TOOLS / 'train.py', VIDEO_CONFIGS['authors'],
        '--work-dir', work_dir, *_data_options(kinetics)
    ],
         cwd=base)
    log = log_text(work_dir)
    assert _train_iters(log) == ['1/3', '2/3', '3/3']
    # LinearLR(start_factor=0.1, end=1500) on lr 0.05: 0.005 + 0.045 * i /
    # 1500 at iteration i (0-based)
    lrs = [float(lr) for lr in re.findall(r'Epoch\(train\).*? lr: (\S+)', log)]
    assert lrs == pytest.approx(
        [0.05 * (0.1 + 0.9 * i / 1500) for i in range(3)], rel=1e-3)
    assert 'Running Precise BN for 4 samples' in log
    assert 'Finish Precise BN, BN stats updated.' in log
    assert len(TOP1.findall(log)) == 1
    allow_mmengine_checkpoints()  # torch.load's weights_only default
    groups = torch.load(
        work_dir / 'epoch_1.pth',
        map_location='cpu')['optimizer']['param_groups']
    assert all(g['nesterov'] and g['momentum'] == 0.9 for g in groups)
    top = max(g['lr'] for g in groups)
    # the 3x3 convs at half the lr; no weight decay on biases
    assert {round(g['lr'] / top, 6) for g in groups} == {0.5, 1.0}
    assert {g['weight_decay'] for g in groups} == {0.0, 1e-4}


def test_c2d_trains_on_two_ranks_with_dist_train_sh(c2d_trained):
    for rank in (0, 1):
        assert f'rank {rank}/2 (gloo, cpu)' in c2d_trained.output
    log = log_text(c2d_trained.work_dir)
    assert 'Distributed training: True' in log
    assert ('2 processes joined: rank 0/2 (gloo, cpu), '
            'rank 1/2 (gloo, cpu)') in log
    # 6 clips on 2 ranks with 2 clips each: 2 iterations
    assert _train_iters(log) == ['1/2', '2/2']
    assert TOP1.search(log)
    _check_checkpoint(c2d_trained, 'c2d')


@pytest.mark.parametrize('name', ['i3d', 'c2d'])
def test_our_test_tool_and_mmaction_agree(name, request, base, kinetics):
    checkpoint = request.getfixturevalue(f'{name}_trained').checkpoint
    ours_pkl, upstream_pkl = base / f'{name}.pkl', base / f'{name}_mm.pkl'
    ours = _run([
        sys.executable, TOOLS / 'test.py', VIDEO_CONFIGS[name], checkpoint,
        '--work-dir', base / f'{name}_test', '--out', ours_pkl,
        *_data_options(kinetics)
    ],
                cwd=base)
    upstream = _run([
        sys.executable, MMACTION_TEST, VIDEO_CONFIGS[name], checkpoint,
        '--work-dir', base / f'{name}_test_mmaction', '--dump', upstream_pkl,
        *_data_options(kinetics)
    ],
                    cwd=base)
    for output in (ours, upstream):
        assert f'Load checkpoint from {checkpoint}' in output
        # every key, the units' included, found in the checkpoint
        assert 'missing keys' not in output
        assert 'unexpected key' not in output
        assert len(TOP1.findall(output)) == 1
    assert TOP1.findall(ours) == TOP1.findall(upstream)
    with open(ours_pkl, 'rb') as f:
        ours_preds = pickle.load(f)  # our own files, written just now
    with open(upstream_pkl, 'rb') as f:
        upstream_preds = pickle.load(f)
    assert len(ours_preds) == len(upstream_preds) == NUM_VIDEOS
    for pred, upstream_pred in zip(ours_preds, upstream_preds):
        assert pred['pred_score'].shape == (NUM_CLASSES, )
        torch.testing.assert_close(pred['pred_score'],
                                   upstream_pred['pred_score'])
        assert pred['gt_label'] == upstream_pred['gt_label']
