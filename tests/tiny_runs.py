# Copyright (c) glore_mm contributors. All rights reserved.
"""The tiny data sets and training runs the tests share.

``tests/conftest.py`` builds each once per test session from what is
defined here: a tiny Cityscapes tree and a tiny Kinetics-400 tree written by
the dataset converters, a tiny ImageNet tree written here, and the tiny
configs of ``tests/data/configs`` trained on them with the real tools.
Tests that need weights but no training save them with
:func:`random_checkpoint`.
"""
import sys
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from tests.tool_runner import REPO, TOOLS

CONFIGS = REPO / 'tests' / 'data' / 'configs'
SEG_CONFIG = CONFIGS / 'tiny_glore_fcn_cityscapes.py'
CLS_CONFIG = (
    CONFIGS / 'tiny_mmpretrain' / 'resnet50-glore-res4x3_1xb4-1e_tiny-in1k.py')
VIDEO_CONFIGS = {
    'i3d':
    CONFIGS / 'tiny_mmaction' /
    'i3d_r50-glore_1xb2-4x4x1-1e_tiny-kinetics400-rgb.py',
    'c2d':
    CONFIGS / 'tiny_mmaction' /
    'c2d_r18-glore_1xb2-4x4x1-1e_tiny-kinetics400-rgb.py',
    'authors':
    CONFIGS / 'tiny_mmaction' /
    'i3d_r50-glore_1xb2-8x8x1-authors-1e_tiny-kinetics400-rgb.py',
}

# The tiny Cityscapes tree: 4 train and 2 val street scenes.
MAKE_CITYSCAPES = TOOLS / 'dataset_converters' / 'make_tiny_cityscapes.py'
NUM_TRAIN, NUM_VAL = 4, 2
IMAGE_SIZE = (64, 128)  # height, width
# The tiny Kinetics-400 tree: 3 classes, 2 clips of 32 frames per class and
# split, cut from real videos.
MAKE_KINETICS = TOOLS / 'dataset_converters' / 'make_tiny_kinetics.py'
NUM_CLASSES, CLIPS_PER_CLASS, NUM_FRAMES = 3, 2, 32
NUM_VIDEOS = NUM_CLASSES * CLIPS_PER_CLASS  # per split
# The tiny ImageNet tree: 2 classes, 4 train and 2 val images each.
IMAGENET_CLASSES = ('n01440764', 'n01443537')

# Iterations of the segmentation run ``mim train`` makes.
TRAIN_ITERS = 2


class TrainRun(NamedTuple):
    """A finished training run: its work_dir, last checkpoint, output."""
    work_dir: Path
    checkpoint: Path
    output: str


class SegTest(NamedTuple):
    """``mim test`` of the segmentation run: saved predictions, output."""
    pred_dir: Path
    output: str


def data_root_options(data_root: Path) -> List[str]:
    """``data_root`` for the train, val and test sets, as config options."""
    return [
        f'{split}_dataloader.dataset.data_root={data_root}'
        for split in ('train', 'val', 'test')
    ]


def mim_command(*args) -> List[str]:
    """``mim ARGS`` with this interpreter (``python -m mim``)."""
    return [sys.executable, '-m', 'mim', *map(str, args)]


def seg_options(data_root: Path) -> List[str]:
    """Data root and a :data:`TRAIN_ITERS` schedule, as ``--cfg-options``."""
    return [
        '--cfg-options', *data_root_options(data_root),
        f'train_cfg.max_iters={TRAIN_ITERS}',
        f'train_cfg.val_interval={TRAIN_ITERS + 1}',
        f'default_hooks.checkpoint.interval={TRAIN_ITERS}',
        'default_hooks.logger.interval=1'
    ]


def make_tiny_imagenet(root: Path,
                       classes: Sequence[str] = IMAGENET_CLASSES,
                       num_train: int = 4,
                       num_val: int = 2,
                       seed: int = 0) -> Path:
    """Write ImageNet's layout: train/<wnid>/*.JPEG, flat val/, meta/*.txt.

    Images are 40x48 random RGB pixels; the label of an image is the index
    of its class in ``classes``.

    Args:
        root (Path): Folder to create; must not exist.
        classes (Sequence[str]): WordNet ids of the classes.
        num_train (int): Training images per class.
        num_val (int): Validation images per class.
        seed (int): Seed of the pixels.

    Returns:
        Path: ``root``.
    """
    rng = np.random.default_rng(seed)
    (root / 'meta').mkdir(parents=True)
    (root / 'val').mkdir()
    train_lines, val_lines = [], []
    for label, wnid in enumerate(classes):
        (root / 'train' / wnid).mkdir(parents=True)
        for i in range(num_train):
            name = f'{wnid}/{wnid}_{i}.JPEG'
            _image(root / 'train' / name, rng)
            train_lines.append(f'{name} {label}')
        for i in range(num_val):
            name = f'ILSVRC2012_val_{label * num_val + i + 1:08d}.JPEG'
            _image(root / 'val' / name, rng)
            val_lines.append(f'{name} {label}')
    (root / 'meta' / 'train.txt').write_text('\n'.join(train_lines) + '\n')
    (root / 'meta' / 'val.txt').write_text('\n'.join(val_lines) + '\n')
    return root


def _image(path: Path, rng: np.random.Generator) -> None:
    pixels = rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format='JPEG')


def random_checkpoint(config: Path,
                      path: Path,
                      seed: int = 0,
                      edit: Optional[Callable[[Dict], None]] = None) -> Path:
    """Save the weights of the config's model as built, seeded.

    Args:
        config (Path): The config.
        path (Path): The checkpoint to write.
        seed (int): Torch's seed for the construction. Defaults to 0.
        edit (callable, optional): Changes the state dict in place before
            it is saved. Defaults to None.

    Returns:
        Path: ``path``.
    """
    from glore_mm.apis import init_model
    torch.manual_seed(seed)
    state = init_model(str(config)).state_dict()
    if edit is not None:
        edit(state)
    torch.save(dict(meta=dict(), state_dict=state), path)
    return path
