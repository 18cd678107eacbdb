# Copyright (c) glore_mm contributors. All rights reserved.
"""Generate the Fashion-MNIST clips set for mmaction: same class or not,
first frame against last.

Each clip shows a Fashion-MNIST item in its first frame and one in its
last, with noise only in between (or, with ``--distractors``, items of
random classes),
labelled by whether the first and the last item are of the same class
(half and half). Training clips take their items from the training split,
test clips from the test split. The items come from the gzipped IDX files
of Debian's ``dataset-fashion-mnist`` package (``apt-get update &&
apt-get install -y dataset-fashion-mnist``) or of the folder given as
``--src``; the set is drawn from ``--seed`` alone and published atomically
as rawframes (PNG frames and ``folder num_frames label`` lists) that
mmaction's ``RawframeDataset`` reads, see
:mod:`glore_mm.datasets.fashion_mnist_clips`.

Example:
    python tools/dataset_converters/fashion_mnist_clips.py \\
        data/fashion_mnist_clips
"""
import argparse
from typing import Tuple

from glore_mm.datasets.fashion_mnist_clips import (DEFAULTS,
                                                   make_fashion_mnist_clips)
from glore_mm.datasets.fashion_mnist_items import converter_parser
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed command line."""
    parser = converter_parser(
        'Generate the Fashion-MNIST clips set (first and last item of the '
        'same class or not)', 'data/fashion_mnist_clips', DEFAULTS,
        dict(train='training clips', test='test clips'))
    parser.add_argument(
        '--num-frames',
        type=int,
        default=DEFAULTS['num_frames'],
        help='frames per clip (default: %(default)s)')
    parser.add_argument(
        '--frame',
        type=int,
        nargs=2,
        metavar=('HEIGHT', 'WIDTH'),
        default=list(DEFAULTS['frame']),
        help='frame size (default: %(default)s)')
    parser.add_argument(
        '--distractors',
        type=float,
        default=DEFAULTS['distractors'],
        help='probability of an item of a random class in each frame '
        'between the first and the last (default: %(default)s)')
    parser.add_argument(
        '--noise',
        type=int,
        default=DEFAULTS['noise'],
        help='largest background value, uniform noise (default: '
        '%(default)s)')
    return parser, parser.parse_args()


def main() -> None:
    """Generate the set the command line describes."""
    parser, args = parse_args()
    with refuse_bad_input(parser):
        info = make_fashion_mnist_clips(
            args.src,
            args.out_dir,
            num_train=args.num_train,
            num_test=args.num_test,
            num_frames=args.num_frames,
            frame=args.frame,
            distractors=args.distractors,
            noise=args.noise,
            seed=args.seed,
            overwrite=args.overwrite)
    counts = info['counts']
    print(f'Fashion-MNIST clips written to {args.out_dir}: '
          f'{counts["train"]} train and {counts["test"]} test clips of '
          f'{info["num_frames"]} frames')


if __name__ == '__main__':
    main()
