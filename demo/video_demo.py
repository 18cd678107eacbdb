# Copyright (c) glore_mm contributors. All rights reserved.
"""Recognise the action in a video (or in every video of a folder) with a
trained mmaction model: prints the best classes and their scores, and can
write the video with its best class drawn on it.

Examples:
    python demo/video_demo.py VIDEO CONFIG CHECKPOINT
    python demo/video_demo.py VIDEO CONFIG CHECKPOINT --out-file out.mp4 \
        --label-file label_map_k400.txt
    python demo/video_demo.py VIDEO_DIR CONFIG CHECKPOINT --out-file out/
"""
import argparse

from glore_mm.apis import format_result, infer_videos


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Recognise actions in videos with a trained model')
    parser.add_argument('video', help='video file, or a folder of videos')
    parser.add_argument('config', help='mmaction config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out-file',
        help='also write the video with its best class drawn on it: a .mp4 '
        'or .avi file for a video, a folder for a folder')
    parser.add_argument(
        '--device', help='device, e.g. cpu or cuda:0 (default: automatic)')
    parser.add_argument(
        '--topk', type=int, default=5, help='classes to print per video')
    parser.add_argument(
        '--label-file',
        help='text file with one class name per line, in class order')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    results = infer_videos(
        args.video,
        args.config,
        args.checkpoint,
        out_file=args.out_file,
        device=args.device,
        topk=args.topk,
        label_file=args.label_file)
    for result in results:
        print(format_result(result))


if __name__ == '__main__':
    main()
