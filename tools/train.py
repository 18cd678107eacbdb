# Copyright (c) glore_mm contributors. All rights reserved.
"""Train a model from an mmseg, mmpretrain or mmaction config.

Examples:
    python tools/train.py configs/glore_fcn_cityscapes.py
    python tools/train.py CONFIG --resume            # latest in work_dir
    python tools/train.py CONFIG --resume ckpt.pth   # a given checkpoint
    bash tools/dist_train.sh CONFIG 8                # also on CPU (gloo)
"""
import argparse

from glore_mm.engine import finish_distributed
from glore_mm.engine.cli import (add_progress_bar, add_random_state_hook,
                                 add_runner_args, build_runner, enable_amp,
                                 load_config, parse_runner_args, set_resume,
                                 use_atomic_checkpoints)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        metavar='CHECKPOINT',
        help='resume from the latest checkpoint in the work_dir, or from '
        'CHECKPOINT if given (put it after the config)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    add_runner_args(parser)
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg)
    set_resume(cfg, args.resume)
    add_progress_bar(cfg)
    add_random_state_hook(cfg)
    use_atomic_checkpoints(cfg)

    runner = build_runner(cfg)
    runner.train()
    del runner  # its model wrapper holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
