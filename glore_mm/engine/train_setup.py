# Copyright (c) glore_mm contributors. All rights reserved.
"""What ``tools/train.py`` does to a config for its arguments.

Each training argument of :mod:`glore_mm.engine.arguments` makes the config
edit that the upstream tool taking it makes; :func:`apply_train_args`
applies them all. An argument that makes no sense for the config's library
raises ``ValueError`` naming the argument and the library.
"""
import argparse
import logging
from typing import Optional

from mmengine.config import Config, ConfigDict
from mmengine.device import get_device
from mmengine.logging import print_log

from .missing_hooks import config_name
from .runner_setup import TRAIN_LOADERS, library, switch_off_loader_options


def set_resume(cfg: Config, resume: Optional[str]) -> None:
    """Apply ``--resume``.

    Args:
        cfg (Config): The config to edit.
        resume (str, optional): None keeps the config's ``resume``;
            ``'auto'`` resumes from the latest checkpoint in the work_dir;
            anything else is the checkpoint to resume from.
    """
    if resume is None:
        return
    cfg.resume = True
    cfg.load_from = None if resume == 'auto' else resume


def enable_amp(cfg: Config) -> None:
    """Apply ``--amp``: switch ``OptimWrapper`` to ``AmpOptimWrapper``.

    Args:
        cfg (Config): The config to edit.

    Raises:
        ValueError: Without an accelerator, or if the config's optimizer
            wrapper is not ``OptimWrapper``.
    """
    device = get_device()
    if device == 'cpu':
        raise ValueError(
            '--amp needs a cuda, npu, mlu or musa device (mmengine\'s '
            f'AmpOptimWrapper), but this machine has device {device!r}')
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type == 'AmpOptimWrapper':
        print_log(
            'AMP training is already enabled in your config.',
            logger='current',
            level=logging.WARNING)
        return
    if wrapper_type != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type=\'OptimWrapper\' in '
                         f'{config_name(cfg)}, but got {wrapper_type!r}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def skip_validation(cfg: Config) -> None:
    """Apply ``--no-validate``: train without validating.

    Args:
        cfg (Config): The config to edit.
    """
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None


def enable_auto_scale_lr(cfg: Config) -> None:
    """Apply ``--auto-scale-lr``: MMEngine scales the learning rate by the
    actual total batch size over ``auto_scale_lr.base_batch_size``.

    Args:
        cfg (Config): The config to edit.

    Raises:
        ValueError: If the config has no ``auto_scale_lr.base_batch_size``
            (mmseg's configs have none; mmpretrain's, mmaction's and
            mmdet's declare it).
    """
    auto_scale_lr = cfg.get('auto_scale_lr', None) or {}
    if 'base_batch_size' not in auto_scale_lr:
        raise ValueError(
            f'--auto-scale-lr needs auto_scale_lr.base_batch_size in '
            f'{config_name(cfg)} (library {library(cfg)}), the batch size '
            'its learning rate is meant for, but the config has none; '
            'mmpretrain, mmaction and mmdet configs declare it, mmseg '
            'configs do not: add e.g. --cfg-options '
            'auto_scale_lr.base_batch_size=16')
    cfg.auto_scale_lr.enable = True


def set_randomness(cfg: Config, seed: Optional[int], diff_rank_seed: bool,
                   deterministic: bool) -> None:
    """Apply ``--seed``, ``--diff-rank-seed`` and ``--deterministic``.

    They set ``randomness.seed``, ``randomness.diff_rank_seed`` and
    ``randomness.deterministic``, as mmaction's tool does for a config
    without ``randomness``. mmaction's tool ignores them when the config
    has ``randomness``; here what is given replaces the config's value.

    Args:
        cfg (Config): The config to edit.
        seed (int, optional): The seed; None keeps the config's.
        diff_rank_seed (bool): Seed each rank differently; False keeps the
            config's choice.
        deterministic (bool): Deterministic algorithms; False keeps the
            config's choice.
    """
    if seed is None and not diff_rank_seed and not deterministic:
        return
    randomness = cfg.get('randomness', None) or ConfigDict(seed=None)
    if seed is not None:
        randomness.seed = seed
    if diff_rank_seed:
        randomness.diff_rank_seed = True
    if deterministic:
        randomness.deterministic = True
    cfg.randomness = randomness


def apply_train_args(cfg: Config, args: argparse.Namespace) -> None:
    """Make the config edits that the arguments of ``tools/train.py`` ask
    for (see :func:`glore_mm.engine.arguments.build_train_parser`).

    Args:
        cfg (Config): The config, read by :func:`config_from_args`.
        args (argparse.Namespace): The parsed command line.

    Raises:
        ValueError: If an argument makes no sense for the config.
    """
    if args.amp:
        enable_amp(cfg)
    set_resume(cfg, args.resume)
    if args.no_validate:
        skip_validation(cfg)
    if args.auto_scale_lr:
        enable_auto_scale_lr(cfg)
    set_randomness(cfg, args.seed, args.diff_rank_seed, args.deterministic)
    switch_off_loader_options(cfg, TRAIN_LOADERS, args.no_pin_memory,
                              args.no_persistent_workers)
