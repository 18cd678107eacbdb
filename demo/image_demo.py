# Copyright (c) glore_mm contributors. All rights reserved.
"""Segment, detect in or classify an image (or every image of a folder)
with a trained model.

An mmseg config writes the image with the predicted classes drawn over it
(PNG) and the predicted label map (``<overlay name>_label.png``, one class
index per pixel); an mmdet config writes the image with the detections
drawn over it (PNG: boxes, masks, class names, scores of at least
``--score-thr``) and every prediction (``<overlay name>.json``); an
mmpretrain config prints the best classes and their scores. The arguments
come in the order of mmseg's ``demo/image_demo.py``: image, config,
checkpoint.

Examples:
    python demo/image_demo.py IMG SEG_CONFIG CHECKPOINT --out-file seg.png
    python demo/image_demo.py IMG_DIR SEG_CONFIG CHECKPOINT --out-file out/
    python demo/image_demo.py IMG DET_CONFIG CHECKPOINT --out-file det.png
    python demo/image_demo.py IMG CLS_CONFIG CHECKPOINT --topk 3
"""
import argparse
from typing import List, Optional, Tuple

from glore_mm.apis import format_result, prepare_images, run_images
from glore_mm.utils import refuse_bad_input


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='Segment, detect in or classify images with a trained '
        'model')
    parser.add_argument('img', help='image file, or a folder of images')
    parser.add_argument(
        'config', help='mmseg, mmdet or mmpretrain config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out-file',
        help='segmentation and detection: the overlay PNG for an image '
        '(default outputs/<image name>.png), a folder for a folder (default '
        'outputs); classification: a .json file for the predictions '
        '(default: none)')
    parser.add_argument(
        '--device', help='device, e.g. cpu or cuda:0 (default: automatic)')
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.5,
        help='opacity of the drawn classes, in (0, 1]')
    parser.add_argument(
        '--with-labels',
        action='store_true',
        help='also write the class names on the overlay')
    parser.add_argument(
        '--topk', type=int, default=5, help='classes to print per image')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='detection: least score of a drawn detection, in [0, 1]')
    return parser, parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    parser, args = parse_args(argv)
    # everything given is checked, and the model built, before any image
    # is run
    with refuse_bad_input(parser):
        job = prepare_images(
            args.img,
            args.config,
            args.checkpoint,
            out_file=args.out_file,
            device=args.device,
            opacity=args.opacity,
            with_labels=args.with_labels,
            topk=args.topk,
            score_thr=args.score_thr)
    for result in run_images(job):
        print(format_result(result))


if __name__ == '__main__':
    main()
