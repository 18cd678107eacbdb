# Copyright (c) glore_mm contributors. All rights reserved.
"""What the mmdet tests share: the tiny Fashion-MNIST detection set, the
tiny GloRe Mask R-CNN trained on it for one epoch with tools/train.py, and
its predictions dumped and drawn by tools/test.py."""
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.test_mmdet.det_runs import (DET_CONFIG, det_options,
                                       make_detection_set)
from tests.tool_runner import TOOLS, run_tool, tool_env


class DetRun(NamedTuple):
    work_dir: Path
    checkpoint: Path
    output: str


class DetTest(NamedTuple):
    predictions: Path
    show_dir: Path
    output: str


@pytest.fixture(scope='session')
def det_base(tmp_path_factory) -> Path:
    """Working directory of every run."""
    return tmp_path_factory.mktemp('mmdet')


@pytest.fixture(scope='session')
def det_data(det_base: Path) -> Path:
    return make_detection_set(det_base)


@pytest.fixture(scope='session')
def det_trained(det_base: Path, det_data: Path) -> DetRun:
    """tools/train.py: 2 iterations of 2 images, then box and mask AP."""
    work_dir = det_base / 'train'
    result = run_tool([
        sys.executable, TOOLS / 'train.py', DET_CONFIG, '--work-dir', work_dir,
        *det_options(det_data)
    ],
                      cwd=det_base,
                      env=tool_env(OMP_NUM_THREADS='1'))
    return DetRun(work_dir, work_dir / 'epoch_1.pth',
                  result.stdout + result.stderr)


@pytest.fixture(scope='session')
def det_tested(det_base: Path, det_data: Path, det_trained: DetRun) -> DetTest:
    """tools/test.py on the val canvases: AP, every prediction dumped to a
    pickle (--out), every canvas drawn (--show-dir)."""
    out, show_dir = det_base / 'preds.pkl', det_base / 'drawn'
    result = run_tool([
        sys.executable, TOOLS / 'test.py', DET_CONFIG, det_trained.checkpoint,
        '--work-dir', det_base / 'test', '--out', out, '--show-dir', show_dir,
        *det_options(det_data)
    ],
                      cwd=det_base,
                      env=tool_env(OMP_NUM_THREADS='1'))
    return DetTest(out, show_dir, result.stdout + result.stderr)
