# Copyright (c) glore_mm contributors. All rights reserved.
"""Fashion-MNIST detection: COCO-format boxes and masks of real items.

A small detection and instance-segmentation set built offline from real
images: each canvas (grey, mild uniform background noise) holds a few
Fashion-MNIST items, each scaled to a random size and put at a random
place where it overlaps no other item. An item's mask is its pixels above
``threshold``, its box the tight box of that mask, its category its
Fashion-MNIST class (the 10 classes, by their Fashion-MNIST names). The
training canvases take their items from the training split, the validation
canvases from the test split, so validation items are unseen.

The set is drawn deterministically from the seed and the gzipped IDX files
of a folder (Debian's ``dataset-fashion-mnist`` by default, checked as
:mod:`.fashion_mnist` checks them) and published atomically, in the layout
mmdet's ``CocoDataset`` reads unchanged (``metainfo=dict(classes=CLASSES)``,
``ann_file='annotations/instances_train.json'``,
``data_prefix=dict(img='train/')``)::

    OUT_DIR/
        train/000000.png ...              grey canvases
        val/000000.png ...
        annotations/instances_train.json  COCO: images, annotations (bbox
        annotations/instances_val.json    [x, y, w, h], area, segmentation
                                          as uncompressed RLE, iscrowd 0,
                                          and the item's source_index and
                                          item_box), categories (ids 1-10)
        meta/info.json                    the settings, source folder and
                                          counts

Masks are run-length encoded (column-major runs, background first, as
pycocotools reads them), so pixel masks come back exactly; mmdet's
``LoadAnnotations`` decodes them with its default ``poly2mask=True``.

The command line is ``tools/dataset_converters/fashion_mnist_detection.py``.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from glore_mm.utils import atomic_write, write_png
from . import fashion_mnist, fashion_mnist_items
from .fashion_mnist_items import INFO_FILE
from .utils import check_empty_or_overwrite, staged_dir

#: Readers of the published set, the same for every generated set.
is_made = fashion_mnist_items.is_made
read_info = fashion_mnist_items.read_info

#: The Fashion-MNIST class names, by label; category ``i + 1`` is class i.
CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
#: Output split -> Fashion-MNIST split its items come from.
SOURCE_SPLITS = {'train': 'train', 'val': 't10k'}
#: Smallest side an item is scaled to.
MIN_ITEM_SIZE = 8
#: Random places tried for an item before it is left out of its canvas.
PLACEMENT_TRIES = 100
#: Defaults of :func:`make_fashion_mnist_detection` and of the command line.
DEFAULTS = dict(
    num_train=2000,
    num_val=500,
    canvas=(96, 96),
    items=(1, 4),
    item_size=(24, 48),
    threshold=32,
    noise=16,
    seed=0)


def ann_file(split: str) -> str:
    """The annotation file of a split, relative to the set's folder."""
    return osp.join('annotations', f'instances_{split}.json')


def _check_range(name: str, value: Sequence[int], low: int,
                 high: Optional[int], what: str) -> Tuple[int, int]:
    """Check that ``value`` is ``(min, max)`` with low <= min <= max <= high.
    """
    pair = tuple(value) if isinstance(value, (list, tuple)) else (value, )
    ok = len(pair) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) for v in pair)
    ok = ok and low <= pair[0] <= pair[1] and (high is None or pair[1] <= high)
    if not ok:
        bound = f' <= {high}' if high is not None else ''
        raise ValueError(f'{name} must be (min, max) {what}: integers with '
                         f'{low} <= min <= max{bound}, but got {value!r}')
    return pair


def check_settings(num_train: int, num_val: int, canvas: Sequence[int],
                   items: Sequence[int], item_size: Sequence[int],
                   threshold: int, noise: int) -> Dict:
    """Check the arguments of :func:`make_fashion_mnist_detection`.

    Returns:
        dict: ``canvas``, ``items`` and ``item_size`` as tuples.

    Raises:
        ValueError: Naming the argument, its value and what is allowed.
    """
    for name, value in (('num_train', num_train), ('num_val', num_val)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be an integer >= 1 (canvases), '
                             f'but got {value!r}')
    canvas = tuple(canvas)
    if len(canvas) != 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < MIN_ITEM_SIZE
            for s in canvas):
        raise ValueError(f'canvas must be (height, width), each an integer '
                         f'>= {MIN_ITEM_SIZE}, but got {canvas!r}')
    items = _check_range('items', items, 1, None, 'items per canvas')
    item_size = _check_range('item_size', item_size, MIN_ITEM_SIZE,
                             min(canvas), 'sides of a scaled item in pixels')
    if isinstance(threshold, bool) or not isinstance(
            threshold, int) or not 0 <= threshold <= 254:
        raise ValueError(f'threshold must be an integer in 0-254 (a mask '
                         f'pixel is brighter), but got {threshold!r}')
    if isinstance(
            noise,
            bool) or not isinstance(noise, int) or not 0 <= noise <= threshold:
        raise ValueError(
            f'noise must be an integer in 0-{threshold} (the largest '
            f'background value, at most threshold={threshold}, so that mask '
            f'pixels stand out), but got {noise!r}')
    return dict(canvas=canvas, items=items, item_size=item_size)


def encode_rle(mask: np.ndarray) -> Dict:
    """Uncompressed COCO run-length encoding of a binary mask.

    Args:
        mask (np.ndarray): ``H x W``, non-zero inside.

    Returns:
        dict: ``{'size': [H, W], 'counts': [...]}``: the lengths of
        alternating runs of 0 and 1 in column-major order, starting with 0
        (a zero-length first run when the first pixel is set).
    """
    flat = (np.asarray(mask).T.reshape(-1) > 0).astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(edges).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return dict(size=list(mask.shape), counts=counts)


def decode_rle(rle: Dict) -> np.ndarray:
    """The binary ``H x W`` uint8 mask of :func:`encode_rle`'s output."""
    height, width = rle['size']
    values = np.arange(len(rle['counts'])) % 2
    flat = np.repeat(values, rle['counts']).astype(np.uint8)
    return flat.reshape(width, height).T


def tight_box(mask: np.ndarray) -> List[int]:
    """COCO ``[x, y, w, h]`` of the set pixels of a non-empty mask."""
    ys, xs = np.nonzero(mask)
    x, y = int(xs.min()), int(ys.min())
    return [x, y, int(xs.max()) - x + 1, int(ys.max()) - y + 1]


def _free_place(
        rng: np.random.Generator, size: int, canvas: Tuple[int, int],
        taken: List[Tuple[int, int, int]]) -> Optional[Tuple[int, int]]:
    """A top-left corner for a ``size`` square overlapping no ``taken``
    square ``(y, x, size)``, or None after :data:`PLACEMENT_TRIES` tries."""
    height, width = canvas
    for _ in range(PLACEMENT_TRIES):
        y = int(rng.integers(0, height - size + 1))
        x = int(rng.integers(0, width - size + 1))
        if all(y + size <= ty or ty + ts <= y or x + size <= tx or tx + ts <= x
               for ty, tx, ts in taken):
            return y, x
    return None


def draw_canvas(images: np.ndarray, labels: np.ndarray, settings: Dict,
                threshold: int, noise: int,
                rng: np.random.Generator) -> Tuple[np.ndarray, List[Dict]]:
    """Draw one canvas and its instances.

    Args:
        images (np.ndarray): uint8 items (N, 28, 28).
        labels (np.ndarray): Their classes (N, ).
        settings (dict): ``canvas``, ``items`` and ``item_size`` as
            :func:`check_settings` returns them.
        threshold (int): A mask pixel is brighter than this.
        noise (int): Background pixels are uniform in ``0..noise``.
        rng (np.random.Generator): The only source of randomness.

    Returns:
        tuple: The uint8 canvas (H, W) and one record per instance with its
        ``label``, source ``index``, ``item_box`` (``[x, y, side, side]`` of
        the scaled item), ``mask`` (H, W), ``bbox`` and ``area``.
    """
    height, width = settings['canvas']
    canvas = rng.integers(0, noise + 1, (height, width), dtype=np.uint8)
    count = int(rng.integers(settings['items'][0], settings['items'][1] + 1))
    low, high = settings['item_size']
    taken: List[Tuple[int, int, int]] = []
    instances = []
    for _ in range(count):
        index = int(rng.integers(len(images)))
        size = int(rng.integers(low, high + 1))
        place = _free_place(rng, size, (height, width), taken)
        if place is None:
            continue
        item = cv2.resize(
            images[index], (size, size), interpolation=cv2.INTER_LINEAR)
        inside = item > threshold
        if not inside.any():
            continue
        y, x = place
        taken.append((y, x, size))
        window = canvas[y:y + size, x:x + size]
        np.maximum(window, item, out=window)
        mask = np.zeros((height, width), dtype=np.uint8)
        mask[y:y + size, x:x + size] = inside
        instances.append(
            dict(
                label=int(labels[index]),
                index=index,
                item_box=[x, y, size, size],
                mask=mask,
                bbox=tight_box(mask),
                area=int(inside.sum())))
    return canvas, instances


def coco_annotations(records: List[Tuple[str, Tuple[int, int], List[Dict]]],
                     info: Dict) -> Dict:
    """The COCO dict of a split.

    Args:
        records (list): ``(file name, (height, width), instances)`` per
            canvas, instances as :func:`draw_canvas` returns them.
        info (dict): Put under ``'info'``.

    Returns:
        dict: ``info``, ``images``, ``annotations`` and ``categories``;
        image and annotation ids count from 1. Each annotation also names
        its item: ``source_index`` (in its Fashion-MNIST split) and
        ``item_box`` (COCO readers ignore both).
    """
    images, annotations = [], []
    for image_id, (file_name, (height, width),
                   instances) in enumerate(records, 1):
        images.append(
            dict(id=image_id, file_name=file_name, height=height, width=width))
        for instance in instances:
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=image_id,
                    category_id=instance['label'] + 1,
                    bbox=instance['bbox'],
                    area=instance['area'],
                    segmentation=encode_rle(instance['mask']),
                    iscrowd=0,
                    source_index=instance['index'],
                    item_box=instance['item_box']))
    categories = [
        dict(id=i + 1, name=name, supercategory='fashion')
        for i, name in enumerate(CLASSES)
    ]
    return dict(
        info=info,
        images=images,
        annotations=annotations,
        categories=categories)


def make_fashion_mnist_detection(
        src_dir: str = fashion_mnist.DEBIAN_DIR,
        out_dir: str = 'data/fashion_mnist_detection',
        num_train: int = DEFAULTS['num_train'],
        num_val: int = DEFAULTS['num_val'],
        canvas: Sequence[int] = DEFAULTS['canvas'],
        items: Sequence[int] = DEFAULTS['items'],
        item_size: Sequence[int] = DEFAULTS['item_size'],
        threshold: int = DEFAULTS['threshold'],
        noise: int = DEFAULTS['noise'],
        seed: int = DEFAULTS['seed'],
        overwrite: bool = False,
        checksum: Optional[bool] = None) -> Dict:
    """Generate the detection set from the gzipped IDX files of ``src_dir``.

    Args:
        src_dir (str): Folder with Fashion-MNIST's four
            ``{train,t10k}-*-ubyte.gz``. Defaults to the Debian package's.
        out_dir (str): Output folder, published when complete. Defaults to
            ``'data/fashion_mnist_detection'``.
        num_train (int): Training canvases (items of the train split).
            Defaults to 2000.
        num_val (int): Validation canvases (items of the test split).
            Defaults to 500.
        canvas (Sequence[int]): Canvas height and width. Defaults to
            (96, 96).
        items (Sequence[int]): Least and most items drawn per canvas; an
            item that finds no free place is left out. Defaults to (1, 4).
        item_size (Sequence[int]): Least and most side, in pixels, an item
            is scaled to (from 28). Defaults to (24, 48).
        threshold (int): Mask pixels are brighter than this. Defaults to 32.
        noise (int): Largest background value (uniform noise), at most
            ``threshold``. Defaults to 16.
        seed (int): Seed of everything drawn. Defaults to 0.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to False.
        checksum (bool, optional): Check the Debian release's shapes and
            SHA-256. Defaults to None: only when ``src_dir`` is the Debian
            package's folder.

    Returns:
        dict: What ``meta/info.json`` holds: the settings, the canvases and
        instances per split and the class names.
    """
    settings = check_settings(num_train, num_val, canvas, items, item_size,
                              threshold, noise)
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
        description='Fashion-MNIST items scaled and placed on canvases',
        classes=list(CLASSES),
        canvas=list(settings['canvas']),
        items=list(settings['items']),
        item_size=list(settings['item_size']),
        threshold=threshold,
        noise=noise,
        seed=seed,
        source_dir=osp.abspath(src_dir),
        source_splits=dict(SOURCE_SPLITS),
        counts=dict(train=num_train, val=num_val),
        instances={})
    with staged_dir(out_dir) as tmp_dir:
        for meta_dir in ('annotations', 'meta'):
            os.makedirs(osp.join(tmp_dir, meta_dir))
        for split_index, (split, source) in enumerate(SOURCE_SPLITS.items()):
            images, labels = fashion_mnist.read_split(src_dir, source,
                                                      checksum)
            rng = np.random.default_rng([seed, split_index])
            records = []
            for i in range(info['counts'][split]):
                image, instances = draw_canvas(images, labels, settings,
                                               threshold, noise, rng)
                file_name = f'{i:06d}.png'
                write_png(osp.join(tmp_dir, split, file_name), image)
                records.append((file_name, image.shape, instances))
            info['instances'][split] = sum(len(r[2]) for r in records)
            coco = coco_annotations(
                records,
                dict(
                    description=info['description'],
                    split=split,
                    source_split=source,
                    seed=seed))
            atomic_write(json.dumps(coco), osp.join(tmp_dir, ann_file(split)))
        atomic_write(
            json.dumps(info, indent=2) + '\n', osp.join(tmp_dir, INFO_FILE))
    return info
