# Copyright (c) glore_mm contributors. All rights reserved.
"""Generate the Fashion-MNIST dense relations set for mmseg.

Each canvas holds three Fashion-MNIST items at least ``--min-distance``
pixels apart; every pixel of an item is labelled ``repeated`` when the
item's class also occurs elsewhere on the canvas and ``unique`` when it
does not (half of the items each, for every class alike), every other
pixel ``background``. Training canvases take their items from the training
split, test canvases from the test split. The items come from the gzipped
IDX files of Debian's ``dataset-fashion-mnist`` package (``apt-get update
&& apt-get install -y dataset-fashion-mnist``) or of the folder given as
``--src``; the set is drawn from ``--seed`` alone and published atomically
in mmseg's ``img_dir``/``ann_dir`` layout, see
:mod:`glore_mm.datasets.fashion_mnist_dense`.

Example:
    python tools/dataset_converters/fashion_mnist_dense.py \\
        data/fashion_mnist_dense
"""
import argparse
from typing import Tuple

from glore_mm.datasets.fashion_mnist import DEBIAN_DIR, DEBIAN_PACKAGE
from glore_mm.datasets.fashion_mnist_dense import (DEFAULTS,
                                                   make_fashion_mnist_dense)
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = argparse.ArgumentParser(
        description='Generate the Fashion-MNIST dense relations set '
        '(repeated or unique items) from the Debian package '
        f'{DEBIAN_PACKAGE}')
    parser.add_argument(
        'out_dir',
        nargs='?',
        default='data/fashion_mnist_dense',
        help='output folder (default: data/fashion_mnist_dense)')
    parser.add_argument(
        '--src',
        default=DEBIAN_DIR,
        help='folder with the gzipped IDX files; the files of the Debian '
        f'package are also checked by SHA-256 (default: {DEBIAN_DIR})')
    parser.add_argument(
        '--num-train',
        type=int,
        default=DEFAULTS['num_train'],
        help='training canvases (default: %(default)s)')
    parser.add_argument(
        '--num-test',
        type=int,
        default=DEFAULTS['num_test'],
        help='test canvases (default: %(default)s)')
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
    parser.add_argument(
        '--seed',
        type=int,
        default=DEFAULTS['seed'],
        help='seed of everything drawn (default: %(default)s)')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace out_dir')
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
