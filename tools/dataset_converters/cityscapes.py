# Copyright (c) glore_mm contributors. All rights reserved.
"""Prepare Cityscapes for mmseg: labelIds -> labelTrainIds and split files.

Writes ``<stem>_gtFine_labelTrainIds.png`` (19 classes) next to every
``<stem>_gtFine_labelIds.png`` (or under ``--out-dir``) and
``{train,val,test}.txt``; see :mod:`glore_mm.datasets.cityscapes` for the
layout and the label table.

Usage::

    python tools/dataset_converters/cityscapes.py data/cityscapes --nproc 8
"""
import argparse
import os.path as osp
from typing import Tuple

from glore_mm.datasets.cityscapes import convert_cityscapes
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = argparse.ArgumentParser(
        description='Write Cityscapes *_gtFine_labelTrainIds.png (19 '
        'classes) from *_gtFine_labelIds.png, and train/val/test.txt')
    parser.add_argument(
        'cityscapes_path',
        help='Cityscapes root holding leftImg8bit/ and gtFine/')
    parser.add_argument('--gt-dir', default='gtFine', help='annotation folder')
    parser.add_argument(
        '-o',
        '--out-dir',
        help='output root for gtFine/**/*_labelTrainIds.png and the split '
        'files (default: cityscapes_path, in place)')
    parser.add_argument(
        '--nproc', default=1, type=int, help='number of processes')
    return parser, parser.parse_args()


def main() -> None:
    """Convert the tree given on the command line."""
    parser, args = parse_args()
    with refuse_bad_input(parser):
        splits = convert_cityscapes(
            args.cityscapes_path,
            out_dir=args.out_dir,
            nproc=args.nproc,
            gt_dir_name=args.gt_dir)
    out_dir = args.out_dir or args.cityscapes_path
    for split, names in splits.items():
        print(f'{split}: {len(names)} images -> '
              f'{osp.join(out_dir, split + ".txt")}')


if __name__ == '__main__':
    main()
