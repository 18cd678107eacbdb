# Copyright (c) glore_mm contributors. All rights reserved.
"""A tiny ImageNet-format tree for the mmpretrain end-to-end runs."""
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

CLASSES = ('n01440764', 'n01443537')


def make_tiny_imagenet(root: Path,
                       classes: Sequence[str] = CLASSES,
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
