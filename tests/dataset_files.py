# Copyright (c) glore_mm contributors. All rights reserved.
"""What the tests of glore_mm.datasets and of the dataset converters share:
hand-made Cityscapes trees, an independent IDX reader, file listings."""
import os
import os.path as osp
import struct
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

# Written out from cityscapesscripts/helpers/labels.py, independently of the
# table in the converter: labelId -> trainId of the 19 evaluated classes.
TRAIN_IDS = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}  # yapf: disable
#: Images and labels of each split of the small Fashion-MNIST files.
FASHION_COUNTS = {'train': 20, 't10k': 10}


def expected_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Literal labelId -> trainId mapping, pixel by pixel."""
    expected = np.full(label_ids.shape, 255, dtype=np.uint8)
    for label_id, train_id in TRAIN_IDS.items():
        expected[label_ids == label_id] = train_id
    return expected


def write_label_ids(root: str, split: str, city: str, index: int,
                    label_ids: np.ndarray) -> str:
    """Write a labelIds map and a black image; return ``city/stem``."""
    stem = f'{city}_{index:06d}_000019'
    gt_dir = osp.join(root, 'gtFine', split, city)
    img_dir = osp.join(root, 'leftImg8bit', split, city)
    os.makedirs(gt_dir, exist_ok=True)
    os.makedirs(img_dir, exist_ok=True)
    path = osp.join(gt_dir, stem + '_gtFine_labelIds.png')
    assert cv2.imwrite(path, label_ids)
    image = np.zeros(label_ids.shape[:2] + (3, ), np.uint8)
    assert cv2.imwrite(osp.join(img_dir, stem + '_leftImg8bit.png'), image)
    return f'{city}/{stem}'


def write_raw_cityscapes(root: str) -> Tuple[str, Dict[str, List[str]]]:
    """A hand-made tree: every labelId 0-33 plus values outside the table.

    Returns:
        tuple[str, dict]: ``root`` and the ``city/stem`` names by split.
    """
    rng = np.random.default_rng(1)
    values = np.concatenate([np.arange(34), [34, 100, 254, 255]])
    layout = [('train', 'aachen', 0), ('train', 'aachen', 1),
              ('train', 'bochum', 0), ('val', 'frankfurt', 0),
              ('test', 'berlin', 0)]
    names: Dict[str, List[str]] = {}
    for split, city, index in layout:
        label_ids = rng.choice(values, size=(9, 13)).astype(np.uint8)
        label_ids.flat[:values.size] = values
        name = write_label_ids(root, split, city, index, label_ids)
        names.setdefault(split, []).append(name)
    return root, names


def read_lines(path) -> List[str]:
    with open(path) as f:
        return f.read().splitlines()


def all_files(root) -> List[str]:
    """Every file under ``root``, relative to it, sorted."""
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def read_idx(path: Path) -> Tuple[int, np.ndarray]:
    """An independent IDX reader: magic, dimensions, then the bytes."""
    data = path.read_bytes()
    magic, = struct.unpack('>I', data[:4])
    ndim = magic & 0xff
    shape = struct.unpack(f'>{ndim}I', data[4:4 + 4 * ndim])
    return magic, np.frombuffer(data[4 + 4 * ndim:], np.uint8).reshape(shape)
