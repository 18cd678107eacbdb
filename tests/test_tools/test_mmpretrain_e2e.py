# Copyright (c) glore_mm contributors. All rights reserved.
"""Train and test a GloRe ResNet with the real tools on a tiny ImageNet.

The tools run as a user runs them, with torch's default
``weights_only=True`` loading: our tools and mmpretrain's both read the
config with Config.fromfile, which imports glore_mm (the config's
custom_imports) and with it the allowlist for MMEngine checkpoints. The
training run is the session's ``cls_trained``, which the image demo tests
use too.
"""
import re
import sys
from pathlib import Path
from typing import List

import mmengine
import mmpretrain
import torch

from glore_mm.utils import allow_mmengine_checkpoints
from tests.tiny_runs import (CLS_CONFIG, IMAGENET_CLASSES, TrainRun,
                             data_root_options)
from tests.tool_runner import TOOLS, run_tool, tool_env

MMPRETRAIN_TEST = Path(mmpretrain.__file__).parent / '.mim/tools/test.py'
# res4x3: after the authors' res4 blocks 1, 3, 5 (counted from 1)
UNITS = ['layer3.0', 'layer3.2', 'layer3.4']


def _run(args: List, cwd: Path) -> str:
    """Run a tool; fail with its output on an error; return the output."""
    result = run_tool([sys.executable, *args], cwd,
                      tool_env(OMP_NUM_THREADS='1'))
    return result.stdout + result.stderr


def _top1(output: str) -> float:
    found = re.findall(r'accuracy/top1: ([\d.]+)', output)
    assert found, output[-3000:]
    return float(found[-1])


def test_train_runs_and_units_learn(cls_trained: TrainRun):
    output = cls_trained.output
    assert re.search(r'Epoch\(train\) *\[1\]\[2/2\]', output), output[-3000:]
    _top1(output)
    allow_mmengine_checkpoints()  # torch.load's weights_only default
    checkpoint = torch.load(cls_trained.checkpoint, map_location='cpu')
    state = checkpoint['state_dict']
    for site in UNITS:
        gate = state[f'backbone.{site}.glore.norm.weight']
        assert torch.count_nonzero(gate) > 0, site
    assert not any('glore' in k
                   for k in state if not k.startswith('backbone.layer3.'))


def test_our_test_tool_and_mmpretrain_agree(cls_trained: TrainRun,
                                            imagenet: Path, tmp_path: Path):
    checkpoint = cls_trained.checkpoint
    options = ['--cfg-options', *data_root_options(imagenet)]
    out = tmp_path / 'preds.pkl'
    ours = _run([
        TOOLS / 'test.py', CLS_CONFIG, checkpoint, '--out', out, '--work-dir',
        tmp_path / 'test_ours', *options
    ],
                cwd=tmp_path)
    assert out.is_file() and out.stat().st_size > 0
    upstream_out = tmp_path / 'preds_mmpretrain.pkl'
    upstream = _run([
        MMPRETRAIN_TEST, CLS_CONFIG, checkpoint, '--out', upstream_out,
        '--work-dir', tmp_path / 'test_mmpretrain', *options
    ],
                    cwd=tmp_path)
    assert _top1(ours) == _top1(upstream)
    # Every key, the units' included, found in the checkpoint.
    assert 'missing keys' not in ours + upstream
    scores = [[p['pred_score'] for p in mmengine.load(f)]
              for f in (out, upstream_out)]
    assert len(scores[0]) == len(scores[1]) == 2 * len(IMAGENET_CLASSES)
    for ours_score, upstream_score in zip(*scores):
        torch.testing.assert_close(ours_score, upstream_score)
