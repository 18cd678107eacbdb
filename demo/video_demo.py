# Copyright (c) glore_mm contributors. All rights reserved.
"""Recognise the action in a video (or in every video of a folder) with a
trained mmaction model: prints the best classes and their scores, and can
write the video with its best class drawn on it.

The arguments come in the order of mmaction's ``demo/demo.py``: config,
checkpoint, video and, optionally here, the label file (one class name
per line; without it classes are shown by index).

Examples:
    python demo/video_demo.py CONFIG CHECKPOINT VIDEO
    python demo/video_demo.py CONFIG CHECKPOINT VIDEO label_map_k400.txt \
        --out-file out.mp4
    python demo/video_demo.py CONFIG CHECKPOINT VIDEO_DIR --out-file out/
"""
import argparse
from typing import List, Optional, Tuple

from glore_mm.apis import format_result, prepare_videos, run_videos
from glore_mm.utils import refuse_bad_input


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='Recognise actions in videos with a trained model')
    parser.add_argument('config', help='mmaction config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('video', help='video file, or a folder of videos')
    parser.add_argument(
        'label',
        nargs='?',
        help='text file with one class name per line, in class order '
        '(default: classes are shown by index)')
    parser.add_argument(
        '--out-file',
        help='also write the video with its best class drawn on it: a .mp4 '
        'or .avi file for a video, a folder for a folder')
    parser.add_argument(
        '--device', help='device, e.g. cpu or cuda:0 (default: automatic)')
    parser.add_argument(
        '--topk', type=int, default=5, help='classes to print per video')
    return parser, parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    parser, args = parse_args(argv)
    # everything given is checked, and the model built, before any video
    # is run
    with refuse_bad_input(parser):
        job = prepare_videos(
            args.video,
            args.config,
            args.checkpoint,
            out_file=args.out_file,
            device=args.device,
            topk=args.topk,
            label_file=args.label)
    for result in run_videos(job):
        print(format_result(result))


if __name__ == '__main__':
    main()
