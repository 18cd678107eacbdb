# Copyright (c) glore_mm contributors. All rights reserved.
"""Generate a tiny Cityscapes-format tree for tests and smoke runs.

Drawn street scenes in the real Cityscapes layout, with their labelIds,
labelTrainIds and split files, so mmseg's ``CityscapesDataset`` and the
Cityscapes configs load them; see :mod:`glore_mm.datasets.tiny_cityscapes`.

Usage::

    python tools/dataset_converters/make_tiny_cityscapes.py \\
        data/tiny_cityscapes --num-train 4 --num-val 2 --size 64 128
"""
import argparse
from typing import Tuple

from glore_mm.datasets.tiny_cityscapes import make_tiny_cityscapes
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = argparse.ArgumentParser(
        description='Generate a tiny Cityscapes-format tree of drawn '
        'street scenes')
    parser.add_argument('out_dir', help='folder to create')
    parser.add_argument('--num-train', type=int, default=4)
    parser.add_argument('--num-val', type=int, default=2)
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(64, 128),
        metavar=('H', 'W'),
        help='image height and width (default: 64 128)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace out_dir if it is not empty')
    return parser, parser.parse_args()


def main() -> None:
    """Generate the tree described on the command line."""
    parser, args = parse_args()
    with refuse_bad_input(parser):
        splits = make_tiny_cityscapes(
            args.out_dir,
            num_train=args.num_train,
            num_val=args.num_val,
            size=args.size,
            seed=args.seed,
            overwrite=args.overwrite)
    counts = ', '.join(f'{k}: {len(v)}' for k, v in splits.items())
    print(f'wrote {args.out_dir} ({counts})')


if __name__ == '__main__':
    main()
