# Copyright (c) glore_mm contributors. All rights reserved.
"""What the demo and mim tests share: the tiny GloRe FCN trained with
``mim train glore_mm`` on a generated tiny Cityscapes tree, and its
predictions saved by ``mim test glore_mm`` (which runs tools/test.py)."""
import sys
from pathlib import Path
from typing import List, NamedTuple

import pytest
from demo_runs import (IMAGE_SIZE, MAKE_CITYSCAPES, NUM_TRAIN, NUM_VAL,
                       SEG_CONFIG, TRAIN_ITERS, mim_command, seg_options)
from tool_runner import run_tool, tool_env


class SegRun(NamedTuple):
    work_dir: Path
    checkpoint: Path
    output: str


class SegTest(NamedTuple):
    pred_dir: Path
    output: str


@pytest.fixture(scope='session')
def seg_base(tmp_path_factory) -> Path:
    """Working directory of every run (mmengine writes .dist_test here)."""
    return tmp_path_factory.mktemp('demo_seg')


@pytest.fixture(scope='session')
def cityscapes(seg_base: Path) -> Path:
    root = seg_base / 'tiny_cityscapes'
    run_tool([
        sys.executable, MAKE_CITYSCAPES, root, '--num-train', NUM_TRAIN,
        '--num-val', NUM_VAL, '--size', *IMAGE_SIZE
    ],
             cwd=seg_base)
    return root


@pytest.fixture(scope='session')
def val_images(cityscapes: Path) -> List[Path]:
    images = sorted((cityscapes / 'leftImg8bit' / 'val').rglob('*.png'))
    assert len(images) == NUM_VAL
    return images


@pytest.fixture(scope='session')
def seg_trained(seg_base: Path, cityscapes: Path) -> SegRun:
    """``mim train glore_mm CONFIG`` for 2 iterations on the CPU."""
    work_dir = seg_base / 'train'
    result = run_tool(
        mim_command('train', 'glore_mm', SEG_CONFIG, '--gpus', 0, '--work-dir',
                    work_dir, *seg_options(cityscapes)),
        cwd=seg_base,
        env=tool_env(OMP_NUM_THREADS='1'))
    return SegRun(work_dir, work_dir / f'iter_{TRAIN_ITERS}.pth',
                  result.stdout + result.stderr)


@pytest.fixture(scope='session')
def seg_tested(seg_base: Path, cityscapes: Path,
               seg_trained: SegRun) -> SegTest:
    """``mim test glore_mm CONFIG --checkpoint CKPT --out DIR``: one
    prediction PNG per val image, from tools/test.py."""
    pred_dir = seg_base / 'test_preds'
    result = run_tool(
        mim_command('test', 'glore_mm', SEG_CONFIG, '--checkpoint',
                    seg_trained.checkpoint, '--work-dir', seg_base / 'test',
                    '--out', pred_dir, *seg_options(cityscapes)),
        cwd=seg_base,
        env=tool_env(OMP_NUM_THREADS='1'))
    return SegTest(pred_dir, result.stdout + result.stderr)
