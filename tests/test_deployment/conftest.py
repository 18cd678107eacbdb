# Copyright (c) glore_mm contributors. All rights reserved.
"""The tiny GloRe FCN that the deployment tests share: trained for 4
iterations on a generated tiny Cityscapes tree, its gates opened, and
exported by ``tools/deployment/pytorch2onnx.py --verify``."""
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from glore_mm.apis import init_model
from glore_mm.deployment import input_shape, wrap_for_export
from glore_mm.models import glore_units_of
from tests.test_deployment.deploy_models import (EXPORT, MAKE_CITYSCAPES,
                                                 SEG_CONFIG, SEG_SIZE,
                                                 open_gates)
from tests.tool_runner import run_tool


class SegRun(NamedTuple):
    checkpoint: Path
    onnx: Path
    stdout: str


@pytest.fixture(scope='session')
def tiny_cityscapes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('data') / 'tiny_cityscapes'
    run_tool([
        sys.executable, MAKE_CITYSCAPES, root, '--num-train', 2, '--num-val',
        2, '--size', 64, 128
    ],
             cwd=root.parent)
    return root


@pytest.fixture(scope='session')
def seg_run(tmp_path_factory, tiny_cityscapes) -> SegRun:
    """The tiny GloRe FCN trained for 4 iterations, gates opened, exported.

    MMEngine's Runner trains it on the tiny Cityscapes tree; the gates
    (near zero after 4 iterations) get random weights; the checkpoint is
    exported by ``tools/deployment/pytorch2onnx.py --verify``.
    """
    base = tmp_path_factory.mktemp('seg')
    cfg = Config.fromfile(SEG_CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(tiny_cityscapes)
    cfg.merge_from_dict({
        'work_dir': str(base / 'train'),
        'train_cfg.max_iters': 4,
        'train_cfg.val_interval': 100,
        'default_hooks.checkpoint.interval': 4,
    })
    Runner.from_cfg(cfg).train()
    model = init_model(cfg, str(base / 'train' / 'iter_4.pth'))
    module, spec = wrap_for_export(cfg, model)
    (unit, ) = glore_units_of(model).values()
    assert unit.normalize, 'the GloRe head must divide by the positions'
    open_gates(model, module, input_shape(spec, 2, 3, SEG_SIZE))
    checkpoint = base / 'open_gates.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    out = base / 'seg.onnx'
    result = run_tool([
        sys.executable, EXPORT, SEG_CONFIG, checkpoint, '--out', out,
        '--shape', *SEG_SIZE, '--verify'
    ],
                      cwd=base)
    return SegRun(checkpoint, out, result.stdout)


@pytest.fixture(scope='session')
def data_option(tiny_cityscapes) -> str:
    """``--cfg-options`` value pointing the test set at the tiny tree."""
    return f'test_dataloader.dataset.data_root={tiny_cityscapes}'
