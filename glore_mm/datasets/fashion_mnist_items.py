# Copyright (c) glore_mm contributors. All rights reserved.
"""Real Fashion-MNIST items for the generated sets.

What the sets drawn from Fashion-MNIST items share
(:mod:`.fashion_mnist_pairs`, :mod:`.fashion_mnist_dense`,
:mod:`.fashion_mnist_clips`, :mod:`.fashion_mnist_detection`): the source
folder check, the items of a split grouped by class, pasting an item over
the background noise, the per-sample CSV tables and ``meta/info.json`` they
publish, and the arguments their command lines share. Training samples
take their items from Fashion-MNIST's training split, test samples from its
test split (:data:`SOURCE_SPLITS`), so test items are unseen.
"""
import argparse
import csv
import io
import json
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from . import fashion_mnist

#: Height and width of one item.
ITEM_SIZE = 28
#: Output split -> Fashion-MNIST split its items come from.
SOURCE_SPLITS = {'train': 'train', 'test': 't10k'}
#: Where every generated set records its settings, counts and classes.
INFO_FILE = osp.join('meta', 'info.json')


class Items(NamedTuple):
    """The items of one Fashion-MNIST split."""
    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # [N], classes 0-9
    by_class: List[np.ndarray]  # indices of the items of each class


def is_made(out_dir: str) -> bool:
    """Whether ``out_dir`` holds a published set (its ``meta/info.json``)."""
    return osp.isfile(osp.join(out_dir, INFO_FILE))


def read_info(out_dir: str) -> Dict:
    """The settings and counts of the set in ``out_dir``."""
    with open(osp.join(out_dir, INFO_FILE)) as f:
        return json.load(f)


def converter_parser(description: str, out_dir: str, defaults: Dict,
                     counts: Dict[str, str]) -> argparse.ArgumentParser:
    """The command line every converter of Fashion-MNIST items shares.

    Args:
        description (str): What the tool generates.
        out_dir (str): The default output folder.
        defaults (dict): The converter's defaults, with ``num_<split>`` for
            every split of ``counts`` and ``seed``.
        counts (dict[str, str]): Split -> what its samples are (e.g.
            ``'training canvases'``): one ``--num-<split>`` option each.

    Returns:
        argparse.ArgumentParser: ``out_dir``, ``--src``, ``--num-<split>``,
        ``--seed`` and ``--overwrite``; the tool adds its own options.
    """
    debian_dir = fashion_mnist.DEBIAN_DIR
    parser = argparse.ArgumentParser(
        description=f'{description} from the Debian package '
        f'{fashion_mnist.DEBIAN_PACKAGE}')
    parser.add_argument(
        'out_dir',
        nargs='?',
        default=out_dir,
        help=f'output folder (default: {out_dir})')
    parser.add_argument(
        '--src',
        default=debian_dir,
        help='folder with the gzipped IDX files; the files of the Debian '
        f'package are also checked by SHA-256 (default: {debian_dir})')
    for split, samples in counts.items():
        parser.add_argument(
            f'--num-{split}',
            type=int,
            default=defaults[f'num_{split}'],
            help=f'{samples} (default: %(default)s)')
    parser.add_argument(
        '--seed',
        type=int,
        default=defaults['seed'],
        help='seed of everything drawn (default: %(default)s)')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace out_dir')
    return parser


def check_sources(src_dir: str, checksum: Optional[bool] = None) -> bool:
    """Check that ``src_dir`` holds the four gzipped IDX files.

    Args:
        src_dir (str): The source folder.
        checksum (bool, optional): Whether to check the Debian release's
            shapes and SHA-256. Defaults to None: only when ``src_dir`` is
            the Debian package's folder.

    Returns:
        bool: Whether the files are to be checked by SHA-256.

    Raises:
        FileNotFoundError: Naming the folder, the missing files and how to
            get them.
    """
    missing = fashion_mnist.missing_sources(src_dir)
    if missing:
        package = fashion_mnist.DEBIAN_PACKAGE
        raise FileNotFoundError(
            f'src_dir {src_dir} lacks {missing}; install the Debian package '
            f'{package} (apt-get update && apt-get install -y {package}) or '
            'pass --src with the gzipped IDX files')
    if checksum is None:
        return osp.realpath(src_dir) == osp.realpath(fashion_mnist.DEBIAN_DIR)
    return checksum


def read_items(src_dir: str, split: str, checksum: bool, least: int,
               what: str) -> Items:
    """The items of one split, at least ``least`` of every class.

    Args:
        src_dir (str): Folder with the gzipped IDX files.
        split (str): ``'train'`` or ``'t10k'``.
        checksum (bool): Check the Debian release's shapes and SHA-256.
        least (int): Items every class needs.
        what (str): What needs them, for the error.

    Raises:
        ValueError: If a file is broken or a class has too few items.
    """
    images, labels = fashion_mnist.read_split(src_dir, split, checksum)
    by_class = [
        np.flatnonzero(labels == c) for c in range(fashion_mnist.NUM_CLASSES)
    ]
    fewest = int(np.argmin([len(i) for i in by_class]))
    if len(by_class[fewest]) < least:
        raise ValueError(
            f'{fashion_mnist.SPLITS[split][1]}: class {fewest} has '
            f'{len(by_class[fewest])} image(s); {what} need at least {least} '
            'images of every class')
    return Items(images, labels, by_class)


def other_class(rng: np.random.Generator, cls: int) -> int:
    """A class other than ``cls``, uniform over the other nine."""
    offset = int(rng.integers(1, fashion_mnist.NUM_CLASSES))
    return (cls + offset) % fashion_mnist.NUM_CLASSES


def paste(canvas: np.ndarray, item: np.ndarray, y: int, x: int) -> None:
    """Put ``item`` over ``canvas`` at top-left ``(y, x)``, in place.

    The brighter of item and background wins, so the item's pixels above
    the background noise are exact.
    """
    height, width = item.shape
    window = canvas[y:y + height, x:x + width]
    np.maximum(window, item, out=window)


def check_count(name: str, value: int, least: int, what: str) -> None:
    """Refuse ``value`` unless it is an integer >= ``least``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f'{name} must be an integer >= {least} ({what}), '
                         f'but got {value!r}')


def check_level(name: str, value: int, high: int, what: str) -> None:
    """Refuse ``value`` unless it is an integer in ``0..high``."""
    if (isinstance(value, bool) or not isinstance(value, int)
            or not 0 <= value <= high):
        raise ValueError(f'{name} must be an integer in 0-{high} ({what}), '
                         f'but got {value!r}')


def csv_text(rows: Sequence[Dict], columns: Sequence[str]) -> str:
    """The CSV text of ``rows`` with the header ``columns``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_csv(path: str, texts: Sequence[str],
             floats: Sequence[str]) -> List[Dict]:
    """The rows of a CSV table, numbers as numbers.

    Args:
        path (str): The table.
        texts (Sequence[str]): Columns kept as text.
        floats (Sequence[str]): Columns read as floats; the others are
            integers.

    Returns:
        list[dict]: One dict per row, in file order.
    """
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    return [{
        key:
        value
        if key in texts else float(value) if key in floats else int(value)
        for key, value in row.items()
    } for row in rows]
