# Copyright (c) glore_mm contributors. All rights reserved.
"""Fashion-MNIST dense relations: label each item by the other item.

The relation of :mod:`.fashion_mnist_pairs` made dense, for segmentation:
each canvas (32x112 by default, uniform background noise) holds two 28x28
Fashion-MNIST items whose centres lie at least ``min_distance`` pixels
apart. Every pixel is labelled

- ``0`` background: not part of an item;
- ``1`` same: part of an item whose class the other item shares;
- ``2`` different: part of an item whose class the other item does not
  share.

An item's pixels are its mask: the pixels of the 28x28 item brighter than
``threshold`` (the background noise is at most ``threshold``).

Half of the canvases (every second, shuffled) hold two items of one class,
the others two items of two classes; the first class is uniform over the
ten, the second (when it differs) over the nine others. So an item of any
class is ``same`` with probability one half, whatever its look: a network
that sees one item alone cannot label it better than chance; it must
compare it with the other item, at least ``min_distance`` pixels away.

The training canvases take their items from Fashion-MNIST's training split,
the test canvases from its test split, so test items are unseen. The set is
drawn deterministically from the seed and the gzipped IDX files of a folder
(Debian's ``dataset-fashion-mnist`` by default, checked as
:mod:`.fashion_mnist` checks them) and published atomically, in mmseg's
layout (:class:`glore_mm.mmseg.datasets.FashionMNISTDenseDataset` reads
it)::

    OUT_DIR/
        img_dir/{train,test}/000000.png   grey canvases
        ann_dir/{train,test}/000000.png   labels 0/1/2
        meta/train.csv                    per item: canvas file, item, label,
        meta/test.csv                     class, source index, top-left
                                          corner, mask pixels and the
                                          distance of its centre to the
                                          other item's
        meta/info.json                    the settings, source folder,
                                          counts and class names

The command line is ``tools/dataset_converters/fashion_mnist_dense.py``.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from glore_mm.utils import atomic_write, write_png
from . import fashion_mnist, fashion_mnist_items
from .fashion_mnist_items import (INFO_FILE, ITEM_SIZE, SOURCE_SPLITS, Items,
                                  check_count, check_level, check_sources,
                                  csv_text, other_class, paste, read_csv,
                                  read_items)
from .utils import check_empty_or_overwrite, staged_dir

#: Readers of the published set, the same for every generated set.
is_made = fashion_mnist_items.is_made
read_info = fashion_mnist_items.read_info

#: Pixel classes, by label.
CLASSES = ('background', 'same', 'different')
BACKGROUND, SAME, DIFFERENT = range(3)
#: Items per canvas.
ITEMS = 2
#: Least distance of two item centres: no two 28x28 items overlap.
MIN_DISTANCE = 40.0
#: Placements of the items tried per canvas.
PLACEMENT_TRIES = 100
#: Columns of ``meta/<split>.csv``, one row per item.
COLUMNS = ('filename', 'item', 'label', 'class', 'index', 'y', 'x', 'pixels',
           'distance')
#: Defaults of :func:`make_fashion_mnist_dense` and of the command line.
DEFAULTS = dict(
    num_train=8000,
    num_test=1000,
    canvas=(32, 112),
    min_distance=42.0,
    threshold=32,
    noise=24,
    seed=0)


def read_items_table(out_dir: str, split: str) -> List[Dict]:
    """The rows of ``meta/<split>.csv`` (one per item), numbers as numbers.

    Args:
        out_dir (str): A published set.
        split (str): ``'train'`` or ``'test'``.

    Returns:
        list[dict]: One dict per item, canvas by canvas, keyed by
        :data:`COLUMNS`.
    """
    return read_csv(
        osp.join(out_dir, 'meta', f'{split}.csv'),
        texts=('filename', ),
        floats=('distance', ))


def check_settings(num_train: int, num_test: int, canvas: Sequence[int],
                   min_distance: float, threshold: int,
                   noise: int) -> Tuple[int, int]:
    """Check the arguments of :func:`make_fashion_mnist_dense`.

    Returns:
        tuple[int, int]: The canvas height and width.

    Raises:
        ValueError: Naming the argument, its value and what is allowed.
    """
    check_count('num_train', num_train, 1, 'canvases')
    check_count('num_test', num_test, 1, 'canvases')
    if len(canvas) != 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < ITEM_SIZE
            for s in canvas):
        raise ValueError(f'canvas must be (height, width), each an integer '
                         f'>= {ITEM_SIZE} (the item size), but got '
                         f'{tuple(canvas)!r}')
    height, width = canvas
    reach = float(np.hypot(height - ITEM_SIZE, width - ITEM_SIZE))
    if not MIN_DISTANCE <= min_distance <= reach:
        raise ValueError(
            f'min_distance must be between {MIN_DISTANCE:g} (items never '
            f'overlap) and {reach:.1f}, the farthest two item centres can be '
            f'on a {height}x{width} canvas, but got {min_distance!r}')
    check_level('threshold', threshold, 254, 'mask pixels are brighter')
    check_level(
        'noise', noise, threshold,
        f'the largest background value, at most threshold='
        f'{threshold}')
    return height, width


def corner_positions(height: int, width: int) -> np.ndarray:
    """Every top-left corner of an item on the canvas, as (y, x) rows."""
    ys, xs = np.mgrid[:height - ITEM_SIZE + 1, :width - ITEM_SIZE + 1]
    return np.stack([ys.ravel(), xs.ravel()], axis=1)  # [P, 2]


def place_items(rng: np.random.Generator, corners: np.ndarray,
                min_distance: float) -> Optional[np.ndarray]:
    """Top-left corners of :data:`ITEMS` items pairwise far enough apart.

    Each item is uniform over the corners far enough from the items placed
    before it; a placement that leaves no such corner is drawn again, up
    to :data:`PLACEMENT_TRIES` times.

    Returns:
        np.ndarray | None: ``[ITEMS, 2]`` (y, x) rows, or None if every try
        failed.
    """
    for _ in range(PLACEMENT_TRIES):
        free = np.ones(len(corners), bool)
        placed = []
        for _ in range(ITEMS):
            candidates = np.flatnonzero(free)
            if not len(candidates):
                break
            corner = corners[rng.choice(candidates)]
            placed.append(corner)
            free &= np.hypot(corners[:, 0] - corner[0],
                             corners[:, 1] - corner[1]) >= min_distance
        if len(placed) == ITEMS:
            return np.array(placed)
    return None


def draw_classes(rng: np.random.Generator, same: bool) -> List[int]:
    """The classes of a canvas's two items.

    The first is uniform over the ten classes; the second is the same, or
    uniform over the nine others.
    """
    first = int(rng.integers(fashion_mnist.NUM_CLASSES))
    return [first, first if same else other_class(rng, first)]


def item_records(classes: Sequence[int], corners: np.ndarray) -> List[Dict]:
    """Label and distance of each item of a canvas (see :data:`COLUMNS`)."""
    centres = corners + ITEM_SIZE / 2
    distance = round(float(np.hypot(*(centres[0] - centres[1]))), 3)
    label = SAME if classes[0] == classes[1] else DIFFERENT
    return [
        dict(
            item=i,
            label=label,
            y=int(corners[i, 0]),
            x=int(corners[i, 1]),
            distance=distance) for i in range(ITEMS)
    ]


def draw_canvas(
        items: Items, same: bool, canvas: Tuple[int, int], corners: np.ndarray,
        min_distance: float, threshold: int, noise: int,
        rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, List[Dict]]:
    """Draw one canvas, its label map and its item records.

    Args:
        items (Items): The items of the split.
        same (bool): Whether the two items share a class.
        canvas (tuple[int, int]): Height and width.
        corners (np.ndarray): :func:`corner_positions` of the canvas.
        min_distance (float): Least distance of two item centres.
        threshold (int): Mask pixels are brighter than this.
        noise (int): Background pixels are uniform in ``0..noise``.
        rng (np.random.Generator): The only source of randomness.

    Returns:
        tuple: The uint8 canvas (H, W), the uint8 labels (H, W) and one
        record per item with the :data:`COLUMNS` other than ``filename``.

    Raises:
        ValueError: If the items find no places ``min_distance`` apart.
    """
    image = rng.integers(0, noise + 1, canvas, dtype=np.uint8)
    labels = np.full(canvas, BACKGROUND, dtype=np.uint8)
    classes = draw_classes(rng, same)
    placed = place_items(rng, corners, min_distance)
    if placed is None:
        raise ValueError(
            f'min_distance={min_distance:g} leaves no room for {ITEMS} items '
            f'on a {canvas[0]}x{canvas[1]} canvas ({PLACEMENT_TRIES} '
            'placements tried); use a smaller min_distance or a larger '
            'canvas')
    records = item_records(classes, placed)
    used = []
    for cls, record in zip(classes, records):
        pool = items.by_class[cls]
        index = int(rng.choice(pool[~np.isin(pool, used)]))
        used.append(index)
        item = items.images[index]
        y, x = record['y'], record['x']
        paste(image, item, y, x)
        window = labels[y:y + ITEM_SIZE, x:x + ITEM_SIZE]
        window[item > threshold] = record['label']
        record.update({
            'class': cls,
            'index': index,
            'pixels': int((item > threshold).sum())
        })
    return image, labels, records


def make_fashion_mnist_dense(src_dir: str = fashion_mnist.DEBIAN_DIR,
                             out_dir: str = 'data/fashion_mnist_dense',
                             num_train: int = DEFAULTS['num_train'],
                             num_test: int = DEFAULTS['num_test'],
                             canvas: Sequence[int] = DEFAULTS['canvas'],
                             min_distance: float = DEFAULTS['min_distance'],
                             threshold: int = DEFAULTS['threshold'],
                             noise: int = DEFAULTS['noise'],
                             seed: int = DEFAULTS['seed'],
                             overwrite: bool = False,
                             checksum: Optional[bool] = None) -> Dict:
    """Generate the dense relations set from the IDX files of ``src_dir``.

    Args:
        src_dir (str): Folder with Fashion-MNIST's four
            ``{train,t10k}-*-ubyte.gz``. Defaults to the Debian package's.
        out_dir (str): Output folder, published when complete.
            Defaults to ``'data/fashion_mnist_dense'``.
        num_train (int): Training canvases (items of the train split).
            Defaults to 8000.
        num_test (int): Test canvases (items of the test split).
            Defaults to 1000.
        canvas (Sequence[int]): Canvas height and width. Defaults to
            (32, 112).
        min_distance (float): Least distance in pixels between the two item
            centres, at least 40. Defaults to 42.
        threshold (int): An item's mask is its pixels brighter than this.
            Defaults to 32.
        noise (int): Largest background value (uniform noise), at most
            ``threshold``. Defaults to 24.
        seed (int): Seed of everything drawn. Defaults to 0.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to False.
        checksum (bool, optional): Check the Debian release's shapes and
            SHA-256. Defaults to None: only when ``src_dir`` is the Debian
            package's folder.

    Returns:
        dict: What ``meta/info.json`` holds: the settings, the canvases
        and items of each label per split, and the class names.
    """
    height, width = check_settings(num_train, num_test, canvas, min_distance,
                                   threshold, noise)
    checksum = check_sources(src_dir, checksum)
    check_empty_or_overwrite(out_dir, overwrite)
    info = dict(
        classes=list(CLASSES),
        canvas=[height, width],
        item_size=ITEM_SIZE,
        items_per_canvas=ITEMS,
        min_distance=min_distance,
        threshold=threshold,
        noise=noise,
        seed=seed,
        source_dir=osp.abspath(src_dir),
        counts=dict(train=num_train, test=num_test),
        items={},
        source_splits=dict(SOURCE_SPLITS))
    corners = corner_positions(height, width)
    with staged_dir(out_dir) as tmp_dir:
        os.makedirs(osp.join(tmp_dir, 'meta'))
        for split_index, (split, source) in enumerate(SOURCE_SPLITS.items()):
            items = read_items(src_dir, source, checksum, 2,
                               'canvases of two items of one class')
            rng = np.random.default_rng([seed, split_index])
            num = info['counts'][split]
            same = rng.permutation(np.arange(num) % 2 == 1)
            rows = []
            for i in range(num):
                image, labels, records = draw_canvas(items, same[i],
                                                     (height, width), corners,
                                                     min_distance, threshold,
                                                     noise, rng)
                filename = f'{i:06d}.png'
                write_png(osp.join(tmp_dir, 'img_dir', split, filename), image)
                write_png(
                    osp.join(tmp_dir, 'ann_dir', split, filename), labels)
                rows += [dict(filename=filename, **r) for r in records]
            info['items'][split] = {
                CLASSES[label]: sum(r['label'] == label for r in rows)
                for label in (SAME, DIFFERENT)
            }
            atomic_write(
                csv_text(rows, COLUMNS),
                osp.join(tmp_dir, 'meta', f'{split}.csv'))
        atomic_write(
            json.dumps(info, indent=2) + '\n', osp.join(tmp_dir, INFO_FILE))
    return info
