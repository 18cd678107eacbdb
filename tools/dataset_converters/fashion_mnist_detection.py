# Copyright (c) glore_mm contributors. All rights reserved.
"""Generate the Fashion-MNIST detection set: boxes and masks in COCO format.

Each canvas holds a few Fashion-MNIST items at random places and scales,
without overlap; each item is one instance of its Fashion-MNIST class, its
mask the item's pixels above ``--threshold`` and its box the mask's tight
box. Training canvases take their items from the training split, validation
canvases from the test split. The items come from the gzipped IDX files of
Debian's ``dataset-fashion-mnist`` package (``apt-get update && apt-get
install -y dataset-fashion-mnist``) or of the folder given as ``--src``;
the set is drawn from ``--seed`` alone and published atomically in the
layout mmdet's ``CocoDataset`` reads, see
:mod:`glore_mm.datasets.fashion_mnist_detection`.

Example:
    python tools/dataset_converters/fashion_mnist_detection.py \\
        data/fashion_mnist_detection
"""
import argparse

from glore_mm.datasets.fashion_mnist_detection import (
    DEFAULTS, make_fashion_mnist_detection)
from glore_mm.datasets.fashion_mnist_items import converter_parser
from glore_mm.utils import refuse_bad_input


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = converter_parser(
        'Generate the Fashion-MNIST detection set (COCO boxes and masks)',
        'data/fashion_mnist_detection', DEFAULTS,
        dict(train='training canvases', val='validation canvases'))
    parser.add_argument(
        '--canvas',
        type=int,
        nargs=2,
        metavar=('HEIGHT', 'WIDTH'),
        default=list(DEFAULTS['canvas']),
        help='canvas size (default: %(default)s)')
    parser.add_argument(
        '--items',
        type=int,
        nargs=2,
        metavar=('MIN', 'MAX'),
        default=list(DEFAULTS['items']),
        help='items drawn per canvas (default: %(default)s)')
    parser.add_argument(
        '--item-size',
        type=int,
        nargs=2,
        metavar=('MIN', 'MAX'),
        default=list(DEFAULTS['item_size']),
        help='side in pixels an item is scaled to (default: %(default)s)')
    parser.add_argument(
        '--threshold',
        type=int,
        default=DEFAULTS['threshold'],
        help='mask pixels are brighter than this (default: %(default)s)')
    parser.add_argument(
        '--noise',
        type=int,
        default=DEFAULTS['noise'],
        help='largest background value, uniform noise, at most --threshold '
        '(default: %(default)s)')
    return parser


def main() -> None:
    """Generate the set the command line describes."""
    parser = build_parser()
    args = parser.parse_args()
    with refuse_bad_input(parser):
        info = make_fashion_mnist_detection(
            args.src,
            args.out_dir,
            num_train=args.num_train,
            num_val=args.num_val,
            canvas=args.canvas,
            items=args.items,
            item_size=args.item_size,
            threshold=args.threshold,
            noise=args.noise,
            seed=args.seed,
            overwrite=args.overwrite)
    counts, instances = info['counts'], info['instances']
    print(f'Fashion-MNIST detection set written to {args.out_dir}: '
          f'{counts["train"]} train canvases ({instances["train"]} '
          f'instances), {counts["val"]} val canvases ({instances["val"]} '
          'instances)')


if __name__ == '__main__':
    main()
