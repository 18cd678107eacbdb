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
from glore_mm.engine.missing_hooks import add_missing_hooks, log_notes
from glore_mm.engine.runner_setup import (build_runner, config_from_args,
                                          enable_amp, set_resume)


def parse_args() -> argparse.Namespace:
    return parse_runner_args(build_train_parser())


def main() -> None:
    args = parse_args()
    cfg = config_from_args(args)
    if args.amp:
        enable_amp(cfg)
    set_resume(cfg, args.resume)
    # what our configs declare, for configs from elsewhere
    notes = add_missing_hooks(cfg, training=True)

    runner = build_runner(cfg)
    log_notes(notes)
    runner.train()
    del runner  # its model wrapper holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
