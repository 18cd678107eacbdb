# Copyright (c) glore_mm contributors. All rights reserved.
"""A tiny Cityscapes-format tree for tests and smoke runs.

The tree has the real Cityscapes layout and file names, so mmseg's
``CityscapesDataset`` and the Cityscapes configs load it (set ``data_root``)::

    OUT_DIR
    |-- leftImg8bit/{train,val}/<city>/<city>_<seq>_000019_leftImg8bit.png
    |-- gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_labelIds.png
    |-- gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_labelTrainIds.png
    `-- train.txt, val.txt

Train images go to aachen and bochum, val images to frankfurt. Each image is
a drawn street scene, not noise: sky above a random horizon, road below it,
sidewalks at the sides, then buildings, vegetation, poles, cars and people
as rectangles, sometimes an ego-vehicle band at the bottom (ignored, 255).
Each class is painted in its Cityscapes colour, jittered per image, with
mild pixel noise, and ``*_gtFine_labelIds.png`` holds exactly what was
drawn, so a small model can learn it. The labelTrainIds files and split
files are written by
:func:`glore_mm.datasets.cityscapes.convert_cityscapes`, which is thereby
exercised. The output is a function of the arguments only (``seed``).

The tree is built in a temporary folder next to OUT_DIR and renamed into
place. OUT_DIR must be missing or empty unless ``overwrite``
(``--overwrite``) is given. The command line is
``tools/dataset_converters/make_tiny_cityscapes.py``.
"""
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from glore_mm.utils import write_png
from .cityscapes import CITYSCAPES_LABELS, LABEL_IDS_SUFFIX, convert_cityscapes
from .utils import check_empty_or_overwrite, staged_dir

#: Cities used per split; images are dealt out over them in turn.
CITIES = {'train': ('aachen', 'bochum'), 'val': ('frankfurt', )}
#: Frame number of the annotated frame in every real gtFine name.
FRAME = 19
IMG_SUFFIX = '_leftImg8bit.png'
MIN_SIZE = 16

_ID = {label.name: label.id for label in CITYSCAPES_LABELS}
# labelId -> BGR colour, as cv2 writes BGR.
_BGR = np.zeros((256, 3), dtype=np.float32)
for _label in CITYSCAPES_LABELS:
    _BGR[_label.id] = _label.color[::-1]


def _rect(label_ids: np.ndarray, name: str, y0: float, y1: float, x0: float,
          x1: float) -> None:
    """Paint a rectangle given in fractions of the image size."""
    h, w = label_ids.shape
    top, bottom = int(round(y0 * h)), max(int(round(y1 * h)), 1)
    left, right = int(round(x0 * w)), max(int(round(x1 * w)), 1)
    label_ids[max(top, 0):bottom, max(left, 0):right] = _ID[name]


def draw_label_ids(rng: np.random.Generator, height: int,
                   width: int) -> np.ndarray:
    """Draw the labelIds map of one random street scene.

    Args:
        rng (np.random.Generator): The random source.
        height (int): Rows.
        width (int): Columns.

    Returns:
        np.ndarray: uint8 labelIds map of shape (height, width).
    """
    label_ids = np.full((height, width), _ID['sky'], dtype=np.uint8)
    horizon = rng.uniform(0.4, 0.55)
    _rect(label_ids, 'road', horizon, 1, 0, 1)
    # Sidewalks widen towards the bottom, like in a perspective view.
    rows = np.arange(height)[:, None] / height
    cols = np.arange(width)[None, :] / width
    depth = np.clip((rows - horizon) / (1 - horizon), 0, None)
    for side in (cols, 1 - cols):
        walk = (rows >= horizon) & (side < 0.05 + 0.3 * depth)
        label_ids[walk] = _ID['sidewalk']
    x = 0.0
    while x < 1:
        bw = rng.uniform(0.15, 0.35)
        if rng.random() < 0.7:
            _rect(label_ids, 'building', rng.uniform(0.05, 0.3), horizon, x,
                  x + bw)
        else:
            _rect(label_ids, 'vegetation', rng.uniform(0.15, 0.35),
                  horizon + 0.05, x, x + bw)
        x += bw
    for _ in range(rng.integers(1, 3)):
        x = rng.uniform(0.05, 0.9)
        _rect(label_ids, 'pole', rng.uniform(0.1, 0.3), horizon + 0.1, x,
              x + 0.02)
    for _ in range(rng.integers(1, 4)):
        x, size = rng.uniform(0.1, 0.8), rng.uniform(0.08, 0.2)
        top = horizon + rng.uniform(-0.05, 0.2)
        _rect(label_ids, 'car', top, top + size, x, x + 1.6 * size)
    for _ in range(rng.integers(0, 3)):
        x, top = rng.uniform(0.02, 0.95), horizon - rng.uniform(0, 0.1)
        _rect(label_ids, 'person', top, top + 0.2, x, x + 0.03)
    if rng.random() < 0.5:
        _rect(label_ids, 'ego vehicle', 0.9, 1, 0, 1)
    return label_ids


def render_image(rng: np.random.Generator,
                 label_ids: np.ndarray) -> np.ndarray:
    """Paint each labelled region in its class colour, with mild noise.

    Args:
        rng (np.random.Generator): The random source.
        label_ids (np.ndarray): uint8 labelIds map, HxW.

    Returns:
        np.ndarray: uint8 BGR image, HxWx3.
    """
    colours = _BGR + rng.normal(0, 12, size=_BGR.shape)  # per-image jitter
    image = colours[label_ids]
    image += rng.normal(0, 8, size=image.shape)  # pixel noise
    image *= rng.uniform(0.8, 1.2)  # brightness
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _write_split(root: str, split: str, num: int, height: int, width: int,
                 rng: np.random.Generator) -> List[str]:
    """Draw ``num`` scenes of one split under ``root``; return the stems."""
    stems = []
    cities = CITIES[split]
    for index in range(num):
        city = cities[index % len(cities)]
        stem = f'{city}_{index // len(cities):06d}_{FRAME:06d}'
        img_dir = osp.join(root, 'leftImg8bit', split, city)
        gt_dir = osp.join(root, 'gtFine', split, city)
        label_ids = draw_label_ids(rng, height, width)
        image = render_image(rng, label_ids)
        write_png(osp.join(img_dir, stem + IMG_SUFFIX), image)
        write_png(osp.join(gt_dir, stem + LABEL_IDS_SUFFIX), label_ids)
        stems.append(f'{city}/{stem}')
    return stems


def make_tiny_cityscapes(out_dir: str,
                         num_train: int = 4,
                         num_val: int = 2,
                         size: Sequence[int] = (64, 128),
                         seed: int = 0,
                         overwrite: bool = False) -> Dict[str, List[str]]:
    """Write a tiny Cityscapes tree to ``out_dir``.

    Args:
        out_dir (str): The folder to create; must be missing or empty
            unless ``overwrite``.
        num_train (int): Train images. Defaults to 4.
        num_val (int): Val images. Defaults to 2.
        size (Sequence[int]): Image (height, width). Defaults to (64, 128).
        seed (int): Seed of the generator. Defaults to 0.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to
            False.

    Returns:
        dict[str, list[str]]: ``<city>/<stem>`` names per split, as in
        ``train.txt`` and ``val.txt``.
    """
    for name, value in (('num_train', num_train), ('num_val', num_val)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be an int >= 1, got {value!r}')
    size = tuple(size)
    if len(size) != 2 or any(not isinstance(s, int) or s < MIN_SIZE
                             for s in size):
        raise ValueError('size must be (height, width), ints >= '
                         f'{MIN_SIZE}, got {size!r}')
    out_dir = osp.abspath(out_dir)
    check_empty_or_overwrite(out_dir, overwrite)
    with staged_dir(out_dir) as tmp_dir:
        rng = np.random.default_rng(seed)
        for split, num in (('train', num_train), ('val', num_val)):
            _write_split(tmp_dir, split, num, *size, rng)
        return convert_cityscapes(tmp_dir)
