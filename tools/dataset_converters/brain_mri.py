# Copyright (c) glore_mm contributors. All rights reserved.
"""Make a small real segmentation set: brain MRI slices with tissue labels.

Axial slices of the MNI ICBM152 2009a template (from the PyPI wheel of
nilearn 0.14.1, downloaded once into the glore_mm cache unless
``--nilearn-wheel`` names a local copy) labelled background / grey matter /
white matter, in mmseg's layout for ``BrainMRIDataset``; see
:mod:`glore_mm.datasets.brain_mri` for the labels, the slices and the
layout.

Usage::

    python tools/dataset_converters/brain_mri.py data/brain_mri --size 128
"""
import argparse
from typing import Tuple

from glore_mm.datasets.brain_mri import (NILEARN_WHEEL, build_brain_mri,
                                         format_summary)
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = argparse.ArgumentParser(
        description='Write axial MNI ICBM152 2009a T1 slices with background'
        ' / grey matter / white matter labels in mmseg layout')
    parser.add_argument('out_dir', help='folder to create')
    parser.add_argument(
        '--nilearn-wheel',
        help=f'local {NILEARN_WHEEL} (default: pip download into the cache)')
    parser.add_argument(
        '--val-every',
        type=int,
        default=5,
        help='every N-th kept slice goes to val (default: 5)')
    parser.add_argument(
        '--size',
        type=int,
        default=128,
        help='pad to a square and resize to SIZE x SIZE; 0 keeps 233x197 '
        '(default: 128)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace out_dir if it is not empty')
    return parser, parser.parse_args()


def main() -> None:
    """Build the set described on the command line."""
    parser, args = parse_args()
    with refuse_bad_input(parser):
        summary = build_brain_mri(
            args.out_dir,
            nilearn_wheel=args.nilearn_wheel,
            val_every=args.val_every,
            size=args.size,
            overwrite=args.overwrite)
    print(format_summary(summary, args.out_dir, args.size))


if __name__ == '__main__':
    main()
