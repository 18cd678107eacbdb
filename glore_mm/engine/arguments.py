# Copyright (c) glore_mm contributors. All rights reserved.
"""The command lines of ``tools/train.py`` and ``tools/test.py``.

Both take the arguments of mmseg's tools of the same name; the tools parse
them with :func:`build_train_parser` and :func:`build_test_parser` and
:func:`parse_runner_args`.
"""
import argparse
import os
from typing import List, Optional

from mmengine.config import DictAction

from .cpu_distributed import LAUNCHERS, NO_LAUNCHER


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments both tools share, as mmseg's tools spell them.

    Adds ``--work-dir``, ``--cfg-options``, ``--launcher`` and
    ``--local_rank``/``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
    """
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs, checkpoints and metrics; defaults to '
        'the config\'s work_dir, else ./work_dirs/<config name>')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=LAUNCHERS,
        default=NO_LAUNCHER,
        help='job launcher; without CUDA, distributed runs use gloo on the '
        'CPU')
    # torch.distributed.launch passes `--local-rank` since PyTorch 2.0 and
    # `--local_rank` before.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def build_train_parser() -> argparse.ArgumentParser:
    """The parser of ``tools/train.py``.

    Returns:
        argparse.ArgumentParser: ``config``, ``--resume [CHECKPOINT]``,
        ``--amp`` and the arguments of :func:`add_runner_args`.
    """
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
    return parser


def build_test_parser() -> argparse.ArgumentParser:
    """The parser of ``tools/test.py``.

    Returns:
        argparse.ArgumentParser: ``config``, ``checkpoint``, ``--out``,
        ``--show``, ``--show-dir``, ``--wait-time``, ``--tta`` and the
        arguments of :func:`add_runner_args`.
    """
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
    return parser


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` and export ``LOCAL_RANK`` if the launcher did not.

    Args:
        parser (argparse.ArgumentParser): A parser with
            :func:`add_runner_args` applied.
        argv (list[str], optional): Arguments; ``sys.argv[1:]`` if None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
