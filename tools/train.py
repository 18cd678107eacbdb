# Copyright (c) glore_mm contributors. All rights reserved.
"""Train a model from an mmseg, mmpretrain, mmaction or mmdet config.

Takes the arguments of the train.py of each of those libraries, with the
same meaning (see :mod:`glore_mm.engine.arguments`).

Examples:
    python tools/train.py configs/glore_fcn_cityscapes.py
    python tools/train.py CONFIG --resume            # latest in work_dir
    python tools/train.py CONFIG --resume ckpt.pth   # a given checkpoint
    python tools/train.py CONFIG --auto-scale-lr --seed 0 --no-validate
    bash tools/dist_train.sh CONFIG 8                # also on CPU (gloo)
"""
import argparse
from typing import Tuple

from glore_mm.engine import finish_distributed
from glore_mm.engine.arguments import build_train_parser, parse_runner_args
from glore_mm.engine.missing_hooks import add_missing_hooks, log_notes
from glore_mm.engine.runner_setup import build_runner, config_from_args
from glore_mm.engine.train_setup import apply_train_args
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = build_train_parser()
    return parser, parse_runner_args(parser)


def main() -> None:
    parser, args = parse_args()
    # the config, the arguments' edits and the runner; a bad one ends with
    # parser.error (exit 2)
    with refuse_bad_input(parser):
        cfg = config_from_args(args)
        apply_train_args(cfg, args)
        # what our configs declare, for configs from elsewhere
        notes = add_missing_hooks(cfg, training=True)
        runner = build_runner(cfg)
    log_notes(notes)
    runner.train()
    del runner  # its model wrapper holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
