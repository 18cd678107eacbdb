# Copyright (c) glore_mm contributors. All rights reserved.
"""Fashion-MNIST pairs: is the item at one end the same class as the other?

A relational task that no local window can solve: each sample is one canvas
(28x112 by default, mild uniform background noise) holding two 28x28
Fashion-MNIST items at random positions whose centres lie at least
``min_distance`` pixels apart, labelled ``1`` (``same``) when both items are
of the same class and ``0`` (``different``) otherwise, half and half. The
training canvases take their items from the training split, the test
canvases from the test split, so test items are unseen.

The set is generated deterministically from the seed and the gzipped IDX
files of a folder (Debian's ``dataset-fashion-mnist`` by default, checked
as :mod:`.fashion_mnist` checks them) and published atomically, in the
layout of mmpretrain's ``CustomDataset``::

    OUT_DIR/
        train/000000.png ...      grey canvases
        test/000000.png ...
        meta/train.txt            "000000.png 1" per line: file and label
        meta/test.txt
        meta/train.csv            per sample: file, label, the two items'
        meta/test.csv             classes, source indices, top-left corners
                                  and the distance of their centres
        meta/info.json            the settings, source folder, counts and
                                  label names

The command line is ``tools/dataset_converters/fashion_mnist_pairs.py``.
"""
import csv
import io
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from glore_mm.utils import atomic_write, write_png
from . import fashion_mnist, fashion_mnist_items
from .fashion_mnist_items import (INFO_FILE, ITEM_SIZE, SOURCE_SPLITS,
                                  read_csv, read_items)
from .utils import check_empty_or_overwrite, staged_dir

#: Readers of the published set, the same for every generated set.
is_made = fashion_mnist_items.is_made
read_info = fashion_mnist_items.read_info

#: Label names, by label.
CLASSES = ('different', 'same')
#: Columns of ``meta/<split>.csv``.
COLUMNS = ('filename', 'label', 'class_a', 'class_b', 'index_a', 'index_b',
           'y_a', 'x_a', 'y_b', 'x_b', 'distance')
#: Defaults of :func:`make_fashion_mnist_pairs` and of the command line.
DEFAULTS = dict(
    num_train=8000,
    num_test=2000,
    canvas=(28, 112),
    min_distance=42.0,
    noise=32,
    seed=0)


def read_samples(out_dir: str, split: str) -> List[Dict]:
    """The rows of ``meta/<split>.csv``, numbers as numbers.

    Args:
        out_dir (str): A published set.
        split (str): ``'train'`` or ``'test'``.

    Returns:
        list[dict]: One dict per sample, in file order, keyed by
        :data:`COLUMNS`.
    """
    return read_csv(
        osp.join(out_dir, 'meta', f'{split}.csv'),
        texts=('filename', ),
        floats=('distance', ))


def check_settings(num_train: int, num_test: int, canvas: Sequence[int],
                   min_distance: float, noise: int) -> Tuple[int, int]:
    """Check the arguments of :func:`make_fashion_mnist_pairs`.

    Returns:
        tuple[int, int]: The canvas height and width.

    Raises:
        ValueError: Naming the argument, its value and what is allowed.
    """
    for name, value in (('num_train', num_train), ('num_test', num_test)):
        if not isinstance(value, int) or value < 2:
            raise ValueError(f'{name} must be an integer >= 2 (one pair of '
                             f'each label), but got {value!r}')
    if len(canvas) != 2 or any(not isinstance(s, int) or s < ITEM_SIZE
                               for s in canvas):
        raise ValueError(f'canvas must be (height, width), each an integer '
                         f'>= {ITEM_SIZE} (the item size), but got '
                         f'{tuple(canvas)!r}')
    height, width = canvas
    reach = float(np.hypot(height - ITEM_SIZE, width - ITEM_SIZE))
    if not 0 <= min_distance <= reach:
        raise ValueError(
            f'min_distance must be between 0 and {reach:.1f}, the farthest '
            f'two item centres can be on a {height}x{width} canvas, but got '
            f'{min_distance!r}')
    if not isinstance(noise, int) or not 0 <= noise <= 255:
        raise ValueError(f'noise must be an integer in 0-255 (the largest '
                         f'background value), but got {noise!r}')
    return height, width


def corner_positions(height: int, width: int) -> np.ndarray:
    """Every top-left corner of an item on the canvas, as (y, x) rows."""
    ys, xs = np.mgrid[:height - ITEM_SIZE + 1, :width - ITEM_SIZE + 1]
    return np.stack([ys.ravel(), xs.ravel()], axis=1)  # [P, 2]


def _positions(rng: np.random.Generator, corners: np.ndarray,
               starts: np.ndarray,
               min_distance: float) -> Tuple[int, int, int, int, float]:
    """Top-left corners of two items whose centres are far enough apart.

    The first is uniform over ``starts`` (the corners with a partner far
    enough away), the second uniform over its partners.
    """
    y_a, x_a = corners[rng.choice(starts)]
    distances = np.hypot(corners[:, 0] - y_a, corners[:, 1] - x_a)
    y_b, x_b = corners[rng.choice(np.flatnonzero(distances >= min_distance))]
    return (int(y_a), int(x_a), int(y_b), int(x_b),
            float(np.hypot(y_b - y_a, x_b - x_a)))


def draw_pairs(images: np.ndarray, labels: np.ndarray, num: int,
               canvas: Tuple[int, int], min_distance: float, noise: int,
               rng: np.random.Generator) -> Tuple[np.ndarray, List[Dict]]:
    """Draw ``num`` canvases of two items each, half of them ``same``.

    Args:
        images (np.ndarray): uint8 items (N, 28, 28).
        labels (np.ndarray): Their classes (N, ), at least 2 of each.
        num (int): Canvases to draw.
        canvas (tuple[int, int]): Their height and width.
        min_distance (float): Least distance of the two item centres.
        noise (int): Background pixels are uniform in ``0..noise``.
        rng (np.random.Generator): The only source of randomness.

    Returns:
        tuple: The uint8 canvases (num, H, W) and one record per canvas
        with the :data:`COLUMNS` other than ``filename``.
    """
    height, width = canvas
    by_class = [
        np.flatnonzero(labels == c) for c in range(fashion_mnist.NUM_CLASSES)
    ]
    corners = corner_positions(height, width)
    # the farthest partner of a corner is one of the four extreme ones
    y_max, x_max = height - ITEM_SIZE, width - ITEM_SIZE
    extremes = np.array([[0, 0], [0, x_max], [y_max, 0], [y_max, x_max]])
    reach = np.hypot(corners[:, None, 0] - extremes[:, 0],
                     corners[:, None, 1] - extremes[:, 1]).max(1)  # [P]
    starts = np.flatnonzero(reach >= min_distance)
    same = rng.permutation(np.arange(num) % 2)
    canvases = rng.integers(0, noise + 1, (num, height, width), dtype=np.uint8)
    records = []
    for i in range(num):
        class_a = int(rng.integers(fashion_mnist.NUM_CLASSES))
        class_b = class_a if same[i] else int(
            (class_a + rng.integers(1, fashion_mnist.NUM_CLASSES)) %
            fashion_mnist.NUM_CLASSES)
        index_a = int(rng.choice(by_class[class_a]))
        others = by_class[class_b][by_class[class_b] != index_a]
        index_b = int(rng.choice(others))
        y_a, x_a, y_b, x_b, distance = _positions(rng, corners, starts,
                                                  min_distance)
        for index, y, x in ((index_a, y_a, x_a), (index_b, y_b, x_b)):
            window = canvases[i, y:y + ITEM_SIZE, x:x + ITEM_SIZE]
            np.maximum(window, images[index], out=window)
        records.append(
            dict(
                label=int(same[i]),
                class_a=class_a,
                class_b=class_b,
                index_a=index_a,
                index_b=index_b,
                y_a=y_a,
                x_a=x_a,
                y_b=y_b,
                x_b=x_b,
                distance=round(distance, 3)))
    return canvases, records


def _csv_text(rows: List[Dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def make_fashion_mnist_pairs(src_dir: str = fashion_mnist.DEBIAN_DIR,
                             out_dir: str = 'data/fashion_mnist_pairs',
                             num_train: int = DEFAULTS['num_train'],
                             num_test: int = DEFAULTS['num_test'],
                             canvas: Sequence[int] = DEFAULTS['canvas'],
                             min_distance: float = DEFAULTS['min_distance'],
                             noise: int = DEFAULTS['noise'],
                             seed: int = DEFAULTS['seed'],
                             overwrite: bool = False,
                             checksum: Optional[bool] = None) -> Dict:
    """Generate the pairs set from the gzipped IDX files of ``src_dir``.

    Args:
        src_dir (str): Folder with Fashion-MNIST's four
            ``{train,t10k}-*-ubyte.gz``. Defaults to the Debian package's.
        out_dir (str): Output folder, published when complete.
            Defaults to ``'data/fashion_mnist_pairs'``.
        num_train (int): Training canvases (items of the train split).
            Defaults to 8000.
        num_test (int): Test canvases (items of the test split).
            Defaults to 2000.
        canvas (Sequence[int]): Canvas height and width. Defaults to
            (28, 112).
        min_distance (float): Least distance in pixels between the two item
            centres. Defaults to 42.
        noise (int): Largest background value (uniform noise). Defaults
            to 32.
        seed (int): Seed of everything drawn. Defaults to 0.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to False.
        checksum (bool, optional): Check the Debian release's shapes and
            SHA-256. Defaults to None: only when ``src_dir`` is the Debian
            package's folder.

    Returns:
        dict: What ``meta/info.json`` holds: the settings, the number of
        canvases per split and the label names.
    """
    height, width = check_settings(num_train, num_test, canvas, min_distance,
                                   noise)
    missing = fashion_mnist.missing_sources(src_dir)
    if missing:
        package = fashion_mnist.DEBIAN_PACKAGE
        raise FileNotFoundError(
            f'src_dir {src_dir} lacks {missing}; install the Debian package '
            f'{package} (apt-get update && apt-get install -y {package}) or '
            'pass --src with the gzipped IDX files')
    if checksum is None:
        checksum = (
            osp.realpath(src_dir) == osp.realpath(fashion_mnist.DEBIAN_DIR))
    check_empty_or_overwrite(out_dir, overwrite)
    info = dict(
        classes=list(CLASSES),
        canvas=[height, width],
        item_size=ITEM_SIZE,
        min_distance=min_distance,
        noise=noise,
        seed=seed,
        source_dir=osp.abspath(src_dir),
        counts=dict(train=num_train, test=num_test),
        source_splits=dict(SOURCE_SPLITS),
        source_counts={})
    with staged_dir(out_dir) as tmp_dir:
        os.makedirs(osp.join(tmp_dir, 'meta'))
        for split_index, (split, source) in enumerate(SOURCE_SPLITS.items()):
            images, labels, _ = read_items(src_dir, source, checksum, 2,
                                           'pairs')
            info['source_counts'][source] = len(images)
            rng = np.random.default_rng([seed, split_index])
            canvases, records = draw_pairs(images, labels,
                                           info['counts'][split],
                                           (height, width), min_distance,
                                           noise, rng)
            rows = []
            for i, (image, record) in enumerate(zip(canvases, records)):
                filename = f'{i:06d}.png'
                write_png(osp.join(tmp_dir, split, filename), image)
                rows.append(dict(filename=filename, **record))
            atomic_write(
                ''.join(f'{r["filename"]} {r["label"]}\n' for r in rows),
                osp.join(tmp_dir, 'meta', f'{split}.txt'))
            atomic_write(
                _csv_text(rows), osp.join(tmp_dir, 'meta', f'{split}.csv'))
        atomic_write(
            json.dumps(info, indent=2) + '\n', osp.join(tmp_dir, INFO_FILE))
    return info
