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
from glore_mm.engine.cli import (add_progress_bar, add_runner_args,
                                 build_runner, drop_training, enable_tta,
                                 enable_visualization, load_config,
                                 parse_runner_args, set_test_output)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='where to keep the predictions: a .pkl/.pickle file (any '
        'config), or a directory of prediction PNGs (mmseg configs)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved; needs '
        'default_hooks.visualization in the config')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test time augmentation with the config\'s tta_pipeline and '
        'tta_model')
    add_runner_args(parser)
    return parse_runner_args(parser)


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
