# Copyright (c) glore_mm contributors. All rights reserved.
"""The command lines of ``tools/train.py`` and ``tools/test.py``.

Both take every argument that the ``train.py`` / ``test.py`` of mmseg,
mmpretrain, mmaction and mmdet take, with the same meaning, so a command
written for any of those tools runs with ours. Where the tools disagree,
ours accepts every form: ``--resume`` alone resumes from the work_dir's
latest checkpoint (all four), ``--resume CHECKPOINT`` from a given one
(mmpretrain, mmaction, mmdet); ``--out`` is mmseg's folder of prediction
images or, ending in ``.pkl``/``.pickle``, the predictions file of
mmpretrain and mmdet (mmaction's ``--dump``). The help of each argument
names the libraries whose tools take it; what each one does to the config
is in :mod:`glore_mm.engine.runner_setup`, which refuses an argument that
makes no sense for the config's library. The tools parse with
:func:`build_train_parser` or :func:`build_test_parser` and
:func:`parse_runner_args`.
"""
import argparse
import os
from typing import List, Optional

from mmengine.config import DictAction

from .cpu_distributed import LAUNCHERS, NO_LAUNCHER

#: Choices of mmpretrain's ``--out-item``: what ``--out`` receives.
OUT_ITEMS = ('metrics', 'pred')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments both tools share, as the upstream tools spell them.

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


def add_loader_args(parser: argparse.ArgumentParser,
                    persistent_workers: bool) -> None:
    """Add mmpretrain's switches of the dataloaders' options.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        persistent_workers (bool): Also add ``--no-persistent-workers``
            (mmpretrain's train.py has it, its test.py does not).
    """
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='set pin_memory=False in the dataloaders (mmpretrain)')
    if persistent_workers:
        parser.add_argument(
            '--no-persistent-workers',
            action='store_true',
            help='set persistent_workers=False in the dataloaders '
            '(mmpretrain)')


def build_train_parser() -> argparse.ArgumentParser:
    """The parser of ``tools/train.py``.

    Returns:
        argparse.ArgumentParser: ``config``, ``--resume [CHECKPOINT]``,
        ``--amp``, ``--no-validate``, ``--auto-scale-lr``, ``--seed``,
        ``--diff-rank-seed``, ``--deterministic``, ``--no-pin-memory``,
        ``--no-persistent-workers`` and the arguments of
        :func:`add_runner_args`.
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
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not validate during training (mmpretrain, mmaction)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size over the '
        'config\'s auto_scale_lr.base_batch_size (mmpretrain, mmaction, '
        'mmdet; mmseg configs have no base batch size)')
    parser.add_argument(
        '--seed',
        type=int,
        default=None,
        help='random seed: randomness.seed (mmaction)')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='a different seed on each rank: randomness.diff_rank_seed '
        '(mmaction)')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='deterministic algorithms (CUDNN): randomness.deterministic '
        '(mmaction)')
    add_loader_args(parser, persistent_workers=True)
    add_runner_args(parser)
    return parser


def build_test_parser() -> argparse.ArgumentParser:
    """The parser of ``tools/test.py``.

    Returns:
        argparse.ArgumentParser: ``config``, ``checkpoint``, ``--out``,
        ``--out-item``, ``--dump``, ``--show``, ``--show-dir``,
        ``--interval``, ``--wait-time``, ``--tta``, ``--amp``,
        ``--no-pin-memory`` and the arguments of :func:`add_runner_args`.
    """
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='where to keep the predictions: a .pkl/.pickle file, for any '
        'config (as mmpretrain and mmdet), or a directory of prediction '
        'PNGs, for mmseg configs (as mmseg)')
    parser.add_argument(
        '--out-item',
        choices=OUT_ITEMS,
        help='what --out receives: the predictions (pred, the default) or '
        'the metrics (a .json, .yaml/.yml or .pkl/.pickle file) '
        '(mmpretrain)')
    parser.add_argument(
        '--dump',
        metavar='FILE',
        help='dump the predictions to a .pkl/.pickle file (mmaction)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved; needs '
        'default_hooks.visualization in the config')
    parser.add_argument(
        '--interval',
        type=int,
        default=None,
        help='with --show or --show-dir: draw every INTERVAL-th sample '
        '(default 1) (mmpretrain, mmaction)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test time augmentation with the config\'s tta_pipeline and '
        'tta_model; mmpretrain and mmdet configs without them get their '
        'tool\'s flip augmentation')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='test with automatic mixed precision: test_cfg.fp16 (bfloat16 '
        'on the CPU) (mmpretrain)')
    add_loader_args(parser, persistent_workers=False)
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
