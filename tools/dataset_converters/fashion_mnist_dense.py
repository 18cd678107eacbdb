# Copyright (c) glore_mm contributors. All rights reserved.
"""Generate the Fashion-MNIST dense relations set for mmseg.

Each canvas holds two Fashion-MNIST items at least ``--min-distance``
pixels apart; every pixel of an item is labelled ``same`` when the other
item has its class and ``different`` when it has not (half of the canvases
each, for every class alike), every other pixel ``background``. Training
canvases take their items from the training split, test canvases from the
test split. The items come from the gzipped IDX files of Debian's
``dataset-fashion-mnist`` package (``apt-get update && apt-get install -y
dataset-fashion-mnist``) or of the folder given as ``--src``; the set is
drawn from ``--seed`` alone and published atomically in mmseg's
``img_dir``/``ann_dir`` layout, see
:mod:`glore_mm.datasets.fashion_mnist_dense`.

Example:
    python tools/dataset_converters/fashion_mnist_dense.py \\
        data/fashion_mnist_dense
"""
import argparse
from typing import Tuple

from glore_mm.datasets.fashion_mnist_dense import (DEFAULTS,
                                                   make_fashion_mnist_dense)
from glore_mm.datasets.fashion_mnist_items import converter_parser
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = converter_parser(
        'Generate the Fashion-MNIST dense relations set (each item of the '
        'same class as the other or not)', 'data/fashion_mnist_dense',
        DEFAULTS, dict(train='training canvases', test='test canvases'))
    parser.add_argument(
        '--canvas',
        type=int,
        nargs=2,
        metavar=('HEIGHT', 'WIDTH'),
        default=list(DEFAULTS['canvas']),
        help='canvas size (default: %(default)s)')
    parser.add_argument(
        '--min-distance',
        type=float,
        default=DEFAULTS['min_distance'],
        help='least distance in pixels of two item centres (default: '
        '%(default)s)')
    parser.add_argument(
        '--threshold',
        type=int,
        default=DEFAULTS['threshold'],
        help='an item\'s mask is its pixels brighter than this (default: '
        '%(default)s)')
    parser.add_argument(
        '--noise',
        type=int,
        default=DEFAULTS['noise'],
        help='largest background value, uniform noise, at most the '
        'threshold (default: %(default)s)')
    return parser, parser.parse_args()


def main() -> None:
    """Generate the set the command line describes."""
    parser, args = parse_args()
    with refuse_bad_input(parser):
        info = make_fashion_mnist_dense(
            args.src,
            args.out_dir,
            num_train=args.num_train,
            num_test=args.num_test,
            canvas=args.canvas,
            min_distance=args.min_distance,
            threshold=args.threshold,
            noise=args.noise,
            seed=args.seed,
            overwrite=args.overwrite)
    counts = info['counts']
    print(f'Fashion-MNIST dense relations written to {args.out_dir}: '
          f'{counts["train"]} train and {counts["test"]} test canvases')


if __name__ == '__main__':
    main()
