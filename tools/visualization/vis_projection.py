# Copyright (c) glore_mm contributors. All rights reserved.
"""Draw the learned projections B of a model's GloRe units on an input.

Runs a model on one image (mmseg, mmpretrain) or one video clip (mmaction)
and writes, for every GloRe unit (and per picked frame of a video), a PNG
of its projection maps: the input with the contours of the ``--nodes``
most varied nodes, those nodes' maps drawn large, and every node's map
over the input (see :mod:`glore_mm.visualization.projection` for the
picture). The files go to ``OUT/vis_data/vis_image/<unit name>_<frame>.png``
and their paths are printed.

Examples:
    python tools/visualization/vis_projection.py \\
        configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py \\
        work_dirs/glore_r18-d8_1xb8-1k_brain-mri-128x128/iter_1000.pth \\
        data/brain_mri/img_dir/val/mni152_z079.png --out vis --nodes 4
    python tools/visualization/vis_projection.py CONFIG CKPT clip.mp4 \\
        --out vis --frames 2 --unit backbone.layer3.1.glore
"""
import argparse
from typing import Optional, Sequence, Tuple

from mmengine.config import DictAction

from glore_mm.apis import load_config
from glore_mm.utils import refuse_bad_input
from glore_mm.visualization import visualize


def parse_args(
    argv: Optional[Sequence[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='Draw the projection maps B of the GloRe units of a '
        'model on an image or a video clip')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'input', help='image file, or video file for video '
        'models')
    parser.add_argument(
        '--out',
        required=True,
        help='output folder; PNGs go to OUT/vis_data/vis_image/')
    parser.add_argument(
        '--nodes',
        type=int,
        default=4,
        help='number of nodes to highlight, those whose maps vary most '
        '(default: 4)')
    parser.add_argument(
        '--unit',
        action='append',
        help='name of a GloRe unit to draw, e.g. decode_head.glore; '
        'repeatable (default: every unit)')
    parser.add_argument(
        '--frames',
        type=int,
        default=4,
        help='video: number of frames to draw, evenly spaced (default: 4)')
    parser.add_argument(
        '--tile-size',
        type=int,
        default=96,
        help='width of a node tile in pixels (default: 96)')
    parser.add_argument(
        '--alpha',
        type=float,
        default=0.5,
        help='opacity of the heat maps over the input (default: 0.5)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if args.nodes < 0:
        parser.error(f'--nodes must be >= 0, got {args.nodes}')
    if args.frames < 1:
        parser.error(f'--frames must be >= 1, got {args.frames}')
    if args.tile_size < 8:
        parser.error(f'--tile-size must be >= 8, got {args.tile_size}')
    if not 0 <= args.alpha <= 1:
        parser.error(f'--alpha must be in [0, 1], got {args.alpha}')
    return parser, args


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser, args = parse_args(argv)
    # one forward of one input: the config, checkpoint, input and --unit
    # are checked as the model is built and run, and named when refused
    with refuse_bad_input(parser):
        cfg = load_config(args.config, args.cfg_options)
        files = visualize(cfg, args.checkpoint, args.input, args.out,
                          args.nodes, args.unit, args.frames, args.tile_size,
                          args.alpha, args.device)
    for path in files:
        print(path)


if __name__ == '__main__':
    main()
