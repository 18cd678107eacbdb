# Copyright (c) glore_mm contributors. All rights reserved.
"""From parsed arguments to a runner: what ``tools/train.py`` and
``tools/test.py`` do between parsing their command line and calling
``runner.train()`` or ``runner.test()``.

The tools serve configs of every OpenMMLab library glore_mm plugs into
(``default_scope`` mmseg, mmpretrain, mmaction or mmdet) without importing
any of them: the config's ``default_scope`` and ``custom_imports`` pull them
in. Here: reading the config, building the runner, and what both tools'
edits share; each tool's own edits are in :mod:`.train_setup` and
:mod:`.test_setup`. An argument that makes no sense for the config's
library raises ``ValueError`` naming the argument and the library, which
the tools report through ``parser.error``.
"""
import argparse
import os.path as osp
from typing import Sequence

from mmengine.config import Config
from mmengine.device import get_device
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner

from glore_mm import apis
from .cpu_distributed import NO_LAUNCHER, setup_cpu_distributed
from .missing_hooks import import_engine

#: The dataloaders of a training run, which its loader switches edit.
TRAIN_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def config_from_args(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the shared arguments.

    The config is read by :func:`glore_mm.apis.load_config` (a file, or a
    ``package::path`` config of an installed library) with the
    ``--cfg-options`` merged in; the launcher is set, and the work_dir is
    taken from ``--work-dir``, else the config, else
    ``./work_dirs/<config name>``.

    Args:
        args (argparse.Namespace): Arguments with ``config``, ``launcher``,
            ``cfg_options`` and ``work_dir``.

    Returns:
        Config: The config, ready for the tool's own changes.
    """
    cfg = apis.load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Build the runner of ``cfg``, on the CPU if there is no accelerator.

    For a distributed launcher on a machine where MMEngine finds no
    accelerator (``get_device() == 'cpu'``), joins the process group with
    gloo first (see :func:`setup_cpu_distributed`). Builds
    ``cfg.runner_type`` from MMEngine's ``RUNNERS`` in the config's
    ``default_scope`` when given, else ``Runner``. The runner reads
    MMEngine checkpoints with ``torch.load``'s ``weights_only`` default:
    importing glore_mm allowlisted their types (see
    :func:`glore_mm.utils.allow_mmengine_checkpoints`).

    Args:
        cfg (Config): The config.

    Returns:
        Runner: The runner.
    """
    distributed = cfg.get('launcher', NO_LAUNCHER) != NO_LAUNCHER
    if distributed and get_device() == 'cpu':
        setup_cpu_distributed(cfg)
        import_engine(cfg)
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    if cfg.get('default_scope', None) is not None:
        init_default_scope(cfg.default_scope)
    return RUNNERS.build(cfg)


def library(cfg: Config) -> str:
    """The library a config belongs to, for messages: its default_scope."""
    return repr(cfg.get('default_scope', None))


def switch_off_loader_options(cfg: Config,
                              loaders: Sequence[str],
                              no_pin_memory: bool,
                              no_persistent_workers: bool = False) -> None:
    """Apply ``--no-pin-memory`` and ``--no-persistent-workers``.

    Args:
        cfg (Config): The config to edit.
        loaders (Sequence[str]): The dataloader keys to edit; those the
            config does not set are left out.
        no_pin_memory (bool): Set ``pin_memory=False``.
        no_persistent_workers (bool): Set ``persistent_workers=False``.
            Defaults to False.
    """
    for key in loaders:
        loader = cfg.get(key, None)
        if loader is None:
            continue
        if no_pin_memory:
            loader.pin_memory = False
        if no_persistent_workers:
            loader.persistent_workers = False
