# Copyright (c) glore_mm contributors. All rights reserved.
"""Test (and evaluate) a checkpoint with an mmseg, mmpretrain or mmaction
config.

Examples:
    python tools/test.py CONFIG CHECKPOINT --out preds/ --show-dir vis/
    python tools/test.py CONFIG CHECKPOINT --out results.pkl
    bash tools/dist_test.sh CONFIG CHECKPOINT 8      # also on CPU (gloo)
"""
import argparse

from glore_mm.engine import finish_distributed
from glore_mm.engine.arguments import build_test_parser, parse_runner_args
from glore_mm.engine.missing_hooks import add_missing_hooks, log_notes
from glore_mm.engine.runner_setup import (build_runner, check_test_checkpoint,
                                          config_from_args, drop_training,
                                          enable_tta, enable_visualization,
                                          set_test_output)


def parse_args() -> argparse.Namespace:
    return parse_runner_args(build_test_parser())


def main() -> None:
    args = parse_args()
    cfg = config_from_args(args)
    cfg.load_from = args.checkpoint
    drop_training(cfg)
    if args.show or args.show_dir:
        enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.tta:
        enable_tta(cfg)
    if args.out is not None:
        set_test_output(cfg, args.out)
    # what our configs declare, for configs from elsewhere
    notes = add_missing_hooks(cfg, training=False)

    runner = build_runner(cfg)
    log_notes(notes)
    check_test_checkpoint(runner, args.checkpoint)
    runner.test()
    del runner  # its model wrapper holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
