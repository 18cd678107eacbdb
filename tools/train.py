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
from glore_mm.engine.arguments import build_train_parser, parse_runner_args
from glore_mm.engine.runner_setup import (add_progress_bar,
                                          add_random_state_hook, build_runner,
                                          enable_amp, load_config, set_resume,
                                          use_atomic_checkpoints)


def parse_args() -> argparse.Namespace:
    return parse_runner_args(build_train_parser())


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
