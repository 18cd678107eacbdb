# Copyright (c) glore_mm contributors. All rights reserved.
"""Test (and evaluate) a checkpoint with an mmseg, mmpretrain, mmaction or
mmdet config.

Takes the arguments of the test.py of each of those libraries, with the
same meaning (see :mod:`glore_mm.engine.arguments`). The checkpoint must
fit the model exactly: a file that is no checkpoint, or one of another
model, ends with a message naming it (exit status 2).

Examples:
    python tools/test.py CONFIG CHECKPOINT --out preds/ --show-dir vis/
    python tools/test.py CONFIG CHECKPOINT --out results.pkl
    python tools/test.py CONFIG CHECKPOINT --dump results.pkl
    python tools/test.py CONFIG CHECKPOINT --out metrics.json \\
        --out-item metrics
    bash tools/dist_test.sh CONFIG CHECKPOINT 8      # also on CPU (gloo)
"""
import argparse
from typing import Tuple

from glore_mm.engine import finish_distributed
from glore_mm.engine.arguments import build_test_parser, parse_runner_args
from glore_mm.engine.missing_hooks import add_missing_hooks, log_notes
from glore_mm.engine.runner_setup import build_runner, config_from_args
from glore_mm.engine.test_setup import (apply_test_args, check_test_checkpoint,
                                        dump_metrics)
from glore_mm.utils import refuse_bad_input


def parse_args() -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = build_test_parser()
    return parser, parse_runner_args(parser)


def main() -> None:
    parser, args = parse_args()
    # the config, the arguments' edits, the runner and the checkpoint; a
    # bad one ends with parser.error (exit 2)
    with refuse_bad_input(parser):
        cfg = config_from_args(args)
        apply_test_args(cfg, args)
        # what our configs declare, for configs from elsewhere
        notes = add_missing_hooks(cfg, training=False)
        runner = build_runner(cfg)
        check_test_checkpoint(runner, args.checkpoint)
    log_notes(notes)
    metrics = runner.test()
    if args.out_item == 'metrics':
        dump_metrics(metrics, args.out)
    del runner  # its model wrapper holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
