# Copyright (c) glore_mm contributors. All rights reserved.
"""What every test shares: the default scope restored after each test, and
the tiny data sets and trained models of :mod:`tests.tiny_runs`, each built
once per session, when a test first asks for it."""
import sys
from pathlib import Path
from typing import List

import pytest
from mmengine.registry import DefaultScope

from tests.tiny_runs import (CLIPS_PER_CLASS, CLS_CONFIG, IMAGE_SIZE,
                             MAKE_CITYSCAPES, MAKE_KINETICS, NUM_CLASSES,
                             NUM_FRAMES, NUM_TRAIN, NUM_VAL, SEG_CONFIG,
                             TRAIN_ITERS, VIDEO_CONFIGS, SegTest, TrainRun,
                             data_root_options, make_tiny_imagenet,
                             mim_command, seg_options)
from tests.tool_runner import TOOLS, free_port, run_tool, tool_env


@pytest.fixture(autouse=True)
def _isolate_default_scope():
    """Undo the MMEngine default scope a test sets (Runner, init_scope).

    Building a Runner or calling ``init_default_scope`` changes a global
    that decides which library's registry a build looks in; without this a
    test's outcome would depend on the tests that ran before it.
    """
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """The same for fixtures shared by several tests (module, session).

    They are set up before the per-test fixture above takes its copy, so a
    Runner one of them builds would otherwise leave its scope to every
    later test.
    """
    if fixturedef.scope == 'function':
        yield
        return
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


# The tiny data sets, each written once per session by its converter (or,
# for ImageNet, by tests.tiny_runs) into a folder of its own.


@pytest.fixture(scope='session')
def cityscapes(tmp_path_factory) -> Path:
    """The tiny Cityscapes tree of ``make_tiny_cityscapes.py``."""
    base = tmp_path_factory.mktemp('cityscapes')
    root = base / 'tiny_cityscapes'
    run_tool([
        sys.executable, MAKE_CITYSCAPES, root, '--num-train', NUM_TRAIN,
        '--num-val', NUM_VAL, '--size', *IMAGE_SIZE
    ],
             cwd=base)
    return root


@pytest.fixture(scope='session')
def val_images(cityscapes: Path) -> List[Path]:
    """The tiny Cityscapes val images, sorted."""
    images = sorted((cityscapes / 'leftImg8bit' / 'val').rglob('*.png'))
    assert len(images) == NUM_VAL
    return images


@pytest.fixture(scope='session')
def kinetics(tmp_path_factory) -> Path:
    """The tiny Kinetics-400 tree of ``make_tiny_kinetics.py``."""
    base = tmp_path_factory.mktemp('kinetics')
    root = base / 'tiny_kinetics400'
    run_tool([
        sys.executable, MAKE_KINETICS, root, '--num-classes', NUM_CLASSES,
        '--clips-per-class', CLIPS_PER_CLASS, '--num-frames', NUM_FRAMES
    ],
             cwd=base)
    return root


@pytest.fixture(scope='session')
def imagenet(tmp_path_factory) -> Path:
    """The tiny ImageNet tree of :func:`tests.tiny_runs.make_tiny_imagenet`."""
    return make_tiny_imagenet(
        tmp_path_factory.mktemp('imagenet') / 'tiny_imagenet')


# The tiny configs trained on them with the real tools, once per session.


@pytest.fixture(scope='session')
def seg_trained(tmp_path_factory, cityscapes: Path) -> TrainRun:
    """``mim train glore_mm`` of the tiny GloRe FCN: TRAIN_ITERS
    iterations on the CPU."""
    base = tmp_path_factory.mktemp('seg_run')
    work_dir = base / 'train'
    result = run_tool(
        mim_command('train', 'glore_mm', SEG_CONFIG, '--gpus', 0, '--work-dir',
                    work_dir, *seg_options(cityscapes)),
        cwd=base,
        env=tool_env(OMP_NUM_THREADS='1'))
    return TrainRun(work_dir, work_dir / f'iter_{TRAIN_ITERS}.pth',
                    result.stdout + result.stderr)


@pytest.fixture(scope='session')
def seg_tested(cityscapes: Path, seg_trained: TrainRun) -> SegTest:
    """``mim test glore_mm CONFIG --checkpoint CKPT --out DIR``: one
    prediction PNG per val image, from tools/test.py."""
    base = seg_trained.work_dir.parent
    pred_dir = base / 'test_preds'
    result = run_tool(
        mim_command('test', 'glore_mm', SEG_CONFIG, '--checkpoint',
                    seg_trained.checkpoint, '--work-dir', base / 'test',
                    '--out', pred_dir, *seg_options(cityscapes)),
        cwd=base,
        env=tool_env(OMP_NUM_THREADS='1'))
    return SegTest(pred_dir, result.stdout + result.stderr)


@pytest.fixture(scope='session')
def cls_trained(tmp_path_factory, imagenet: Path) -> TrainRun:
    """The tiny GloRe ResNet-50 after its one epoch (2 iterations, then
    validation) with tools/train.py."""
    base = tmp_path_factory.mktemp('cls_run')
    work_dir = base / 'train'
    result = run_tool([
        sys.executable, TOOLS / 'train.py', CLS_CONFIG, '--work-dir', work_dir,
        '--cfg-options', *data_root_options(imagenet)
    ],
                      cwd=base,
                      env=tool_env(OMP_NUM_THREADS='1'))
    return TrainRun(work_dir, work_dir / 'epoch_1.pth',
                    result.stdout + result.stderr)


@pytest.fixture(scope='session')
def c2d_trained(tmp_path_factory, kinetics: Path) -> TrainRun:
    """The tiny GloRe C2D after its one epoch on two gloo ranks with
    tools/dist_train.sh (2 iterations of 2x2 clips)."""
    base = tmp_path_factory.mktemp('c2d_run')
    work_dir = base / 'train'
    result = run_tool([
        TOOLS / 'dist_train.sh', VIDEO_CONFIGS['c2d'], 2, '--work-dir',
        work_dir, '--cfg-options', *data_root_options(kinetics)
    ],
                      cwd=base,
                      env=tool_env(OMP_NUM_THREADS='1', PORT=free_port()))
    return TrainRun(work_dir, work_dir / 'epoch_1.pth',
                    result.stdout + result.stderr)
