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
from glore_mm.engine.runner_setup import (add_progress_bar, build_runner,
                                          drop_training, enable_tta,
                                          enable_visualization, load_config,
                                          set_test_output)


def parse_args() -> argparse.Namespace:
    return parse_runner_args(build_test_parser())


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    drop_training(cfg)
    if args.show or args.show_dir:
        enable_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.tta:
        enable_tta(cfg)
    if args.out is not None:
        set_test_output(cfg, args.out)
    add_progress_bar(cfg)

    runner = build_runner(cfg)
    runner.test()
    del runner  # its model wrapper holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
