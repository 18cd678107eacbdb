# Copyright (c) glore_mm contributors. All rights reserved.
"""Prepare Fashion-MNIST for mmpretrain's ``FashionMNIST`` dataset.

Decompresses the four gzipped IDX files of Debian's
``dataset-fashion-mnist`` package (``apt-get update && apt-get install -y
dataset-fashion-mnist``), or of the folder given as ``--src``, into
``OUT_DIR`` (default ``data/fashion_mnist``), checks them and publishes the
folder atomically; see :mod:`glore_mm.datasets.fashion_mnist` for the
checks (the Debian files are also checked against their SHA-256).

Example:
    python tools/dataset_converters/fashion_mnist.py data/fashion_mnist
"""
import argparse
from typing import Tuple

from glore_mm.datasets.fashion_mnist import DEBIAN_DIR, DEBIAN_PACKAGE, convert
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = argparse.ArgumentParser(
        description='Prepare Fashion-MNIST for mmpretrain from the Debian '
        f'package {DEBIAN_PACKAGE}')
    parser.add_argument(
        'out_dir',
        nargs='?',
        default='data/fashion_mnist',
        help='output folder (default: data/fashion_mnist)')
    parser.add_argument(
        '--src',
        default=DEBIAN_DIR,
        help='folder with the gzipped IDX files; the files of the Debian '
        f'package are also checked by SHA-256 (default: {DEBIAN_DIR})')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace out_dir')
    return parser, parser.parse_args()


def main() -> None:
    """Convert the folder given on the command line."""
    parser, args = parse_args()
    with refuse_bad_input(parser):
        convert(args.src, args.out_dir, args.overwrite)
    print(f'Fashion-MNIST written to {args.out_dir}')


if __name__ == '__main__':
    main()
