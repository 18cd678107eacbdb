# Copyright (c) glore_mm contributors. All rights reserved.
"""Train and test a GloRe ResNet with the real tools on a tiny ImageNet."""
import os
import re
import subprocess
import sys
from pathlib import Path

import mmengine
import mmpretrain
import numpy as np
import pytest
import torch
from PIL import Image

from glore_mm.utils import allow_mmengine_checkpoints

REPO = Path(__file__).parents[2]
CONFIG = (
    REPO / 'tests/data/configs/tiny_mmpretrain/'
    'resnet50-glore-res4x3_1xb4-1e_tiny-in1k.py')
MMPRETRAIN_TEST = Path(mmpretrain.__file__).parent / '.mim/tools/test.py'
CLASSES = ['n01440764', 'n01443537']
# res4x3: after the authors' res4 blocks 1, 3, 5 (counted from 1)
UNITS = ['layer3.0', 'layer3.2', 'layer3.4']


def _image(path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format='JPEG')


@pytest.fixture(scope='module')
def tiny_imagenet(tmp_path_factory) -> Path:
    """ImageNet's layout: train/<wnid>/*.JPEG, flat val/, meta/*.txt."""
    root = tmp_path_factory.mktemp('tiny_imagenet')
    rng = np.random.default_rng(0)
    (root / 'meta').mkdir()
    (root / 'val').mkdir()
    train_lines, val_lines = [], []
    for label, wnid in enumerate(CLASSES):
        (root / 'train' / wnid).mkdir(parents=True)
        for i in range(4):
            name = f'{wnid}/{wnid}_{i}.JPEG'
            _image(root / 'train' / name, rng)
            train_lines.append(f'{name} {label}')
        for i in range(2):
            name = f'ILSVRC2012_val_{label * 2 + i + 1:08d}.JPEG'
            _image(root / 'val' / name, rng)
            val_lines.append(f'{name} {label}')
    (root / 'meta/train.txt').write_text('\n'.join(train_lines) + '\n')
    (root / 'meta/val.txt').write_text('\n'.join(val_lines) + '\n')
    return root


def _run(args, cwd):
    """Run a tool as a user does, with torch's default ``weights_only=True``
    loading: our tools and mmpretrain's both read the config with
    Config.fromfile, which imports glore_mm (the config's custom_imports)
    and with it the allowlist for MMEngine checkpoints."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'
    }
    env['PYTHONPATH'] = os.pathsep.join([str(REPO),
                                         env.get('PYTHONPATH',
                                                 '')]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, *map(str, args)],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    return output


def _top1(output: str) -> float:
    found = re.findall(r'accuracy/top1: ([\d.]+)', output)
    assert found, output[-3000:]
    return float(found[-1])


@pytest.fixture(scope='module')
def trained(tiny_imagenet, tmp_path_factory):
    """Work dir after one epoch (2 iterations) with tools/train.py."""
    work_dir = tmp_path_factory.mktemp('work_dir')
    output = _run([
        REPO / 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *_data_options(tiny_imagenet)
    ],
                  cwd=work_dir)
    return work_dir, output


def _data_options(root):
    return [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]


def test_train_runs_and_units_learn(trained):
    work_dir, output = trained
    assert re.search(r'Epoch\(train\) *\[1\]\[2/2\]', output), output[-3000:]
    _top1(output)
    allow_mmengine_checkpoints()  # torch.load's weights_only default
    checkpoint = torch.load(work_dir / 'epoch_1.pth', map_location='cpu')
    state = checkpoint['state_dict']
    for site in UNITS:
        gate = state[f'backbone.{site}.glore.norm.weight']
        assert torch.count_nonzero(gate) > 0, site
    assert not any('glore' in k
                   for k in state if not k.startswith('backbone.layer3.'))


def test_our_test_tool_and_mmpretrain_agree(trained, tiny_imagenet):
    work_dir, _ = trained
    checkpoint = work_dir / 'epoch_1.pth'
    out = work_dir / 'preds.pkl'
    ours = _run([
        REPO / 'tools/test.py', CONFIG, checkpoint, '--out', out, '--work-dir',
        work_dir / 'test_ours', '--cfg-options', *_data_options(tiny_imagenet)
    ],
                cwd=work_dir)
    assert out.is_file() and out.stat().st_size > 0
    upstream_out = work_dir / 'preds_mmpretrain.pkl'
    upstream = _run([
        MMPRETRAIN_TEST, CONFIG, checkpoint, '--out', upstream_out,
        '--work-dir', work_dir / 'test_mmpretrain', '--cfg-options',
        *_data_options(tiny_imagenet)
    ],
                    cwd=work_dir)
    assert _top1(ours) == _top1(upstream)
    # Every key, the units' included, found in the checkpoint.
    assert 'missing keys' not in ours + upstream
    scores = [[p['pred_score'] for p in mmengine.load(f)]
              for f in (out, upstream_out)]
    assert len(scores[0]) == len(scores[1]) == 2 * len(CLASSES)
    for ours_score, upstream_score in zip(*scores):
        torch.testing.assert_close(ours_score, upstream_score)
