# Copyright (c) glore_mm contributors. All rights reserved.
"""From parsed arguments to a runner: what ``tools/train.py`` and
``tools/test.py`` do between parsing their command line and calling
``runner.train()`` or ``runner.test()``.

The tools serve configs of every OpenMMLab library glore_mm plugs into
(``default_scope`` mmseg, mmpretrain or mmaction) without importing any of
them: the config's ``default_scope`` and ``custom_imports`` pull them in.
"""
import argparse
import logging
import os.path as osp
from typing import Optional

from mmengine.config import Config, ConfigDict
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner

from glore_mm import apis
from glore_mm.utils import (check_checkpoint_fits, checkpoint_state_dict,
                            read_checkpoint)
from .cpu_distributed import NO_LAUNCHER, setup_cpu_distributed
from .missing_hooks import config_name, import_engine

PICKLE_SUFFIXES = ('.pkl', '.pickle')
# Per scope: the switch of its visualization hook and the hook's type.
# mmseg's SegVisualizationHook and mmdet's DetVisualizationHook have
# ``draw`` and draw through the visualizer's ``save_dir``; the
# VisualizationHook of mmpretrain and mmaction has ``enable`` and an
# ``out_dir`` of its own.
VISUALIZATION_HOOKS = {
    'mmseg': ('draw', 'SegVisualizationHook'),
    'mmdet': ('draw', 'DetVisualizationHook'),
    'mmpretrain': ('enable', 'VisualizationHook'),
    'mmaction': ('enable', 'VisualizationHook'),
}


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


def drop_training(cfg: Config) -> None:
    """Remove what only training needs from a test run's config.

    Sets ``train_dataloader``, ``train_cfg``, ``optim_wrapper`` and
    ``param_scheduler`` to None. Testing then never builds the training
    loop, which hooks such as mmseg's ``SegVisualizationHook`` otherwise
    trigger through ``runner.iter``: that loads the training set, which a
    machine holding only validation data does not have.

    Args:
        cfg (Config): The config to edit.
    """
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        cfg[key] = None


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


def enable_visualization(cfg: Config, show: bool, show_dir: Optional[str],
                         wait_time: float) -> None:
    """Apply ``--show``/``--show-dir``: draw every test sample.

    mmseg and mmdet configs get ``draw=True`` on their
    ``SegVisualizationHook`` / ``DetVisualizationHook`` and the visualizer's
    ``save_dir`` set to ``show_dir`` (images land under
    ``show_dir/vis_data/vis_image``); mmpretrain and mmaction configs get
    ``enable=True`` and ``out_dir=show_dir`` on their
    ``VisualizationHook``.

    Args:
        cfg (Config): The config to edit.
        show (bool): Show each image in a window.
        show_dir (str, optional): Directory to save the drawn images in.
        wait_time (float): Seconds each shown image stays up.

    Raises:
        ValueError: If the config has no ``default_hooks.visualization`` or
            its ``default_scope`` has no known visualization hook.
    """
    option = '--show-dir' if show_dir else '--show'
    scope = cfg.get('default_scope', None)
    if scope not in VISUALIZATION_HOOKS:
        raise ValueError(
            f'{option}: default_scope={scope!r} of {config_name(cfg)} has '
            'no known visualization hook; allowed scopes: '
            f'{sorted(VISUALIZATION_HOOKS)}')
    style, hook_type = VISUALIZATION_HOOKS[scope]
    default_hooks = cfg.get('default_hooks', None) or {}
    hook = default_hooks.get('visualization', None)
    if hook is None:
        raise ValueError(
            f'{option} needs default_hooks.visualization in '
            f'{config_name(cfg)}, but the config has default_hooks keys '
            f'{sorted(k for k, v in default_hooks.items() if v is not None)}'
            f"; add e.g. visualization=dict(type='{hook_type}')")
    hook[style] = True
    hook.interval = 1
    if show:
        hook.show = True
        hook.wait_time = wait_time
    if not show_dir:
        return
    if style == 'enable':
        hook.out_dir = show_dir
    elif cfg.get('visualizer', None) is None:
        raise ValueError(f'--show-dir needs a visualizer in '
                         f'{config_name(cfg)}, but it has none')
    else:
        cfg.visualizer.save_dir = show_dir


def enable_tta(cfg: Config) -> None:
    """Apply ``--tta``: test with ``cfg.tta_pipeline`` and ``cfg.tta_model``.

    Args:
        cfg (Config): The config to edit.

    Raises:
        ValueError: If the config lacks ``tta_pipeline`` or ``tta_model``.
    """
    missing = [
        key for key in ('tta_pipeline', 'tta_model')
        if cfg.get(key, None) is None
    ]
    if missing:
        raise ValueError(
            f'--tta needs tta_pipeline and tta_model in {config_name(cfg)}, '
            f'but {" and ".join(missing)} '
            f'{"is" if len(missing) == 1 else "are"} not set')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def set_test_output(cfg: Config, out: str) -> None:
    """Apply ``--out``: keep the test predictions.

    A ``.pkl``/``.pickle`` path adds MMEngine's ``DumpResults`` metric to
    ``test_evaluator``. Any other path is a directory for mmseg's metrics to
    write one prediction PNG per image into (``output_dir``,
    ``keep_results=True``, as mmseg's test tool does).

    Args:
        cfg (Config): The config to edit.
        out (str): The file or directory.

    Raises:
        ValueError: If ``out`` is a directory and the config is not an mmseg
            config.
    """
    evaluator = cfg.test_evaluator
    if out.endswith(PICKLE_SUFFIXES):
        dump = ConfigDict(type='DumpResults', out_file_path=out)
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump]
        else:
            cfg.test_evaluator = [evaluator, dump]
        return
    scope = cfg.get('default_scope', None)
    if scope != 'mmseg':
        raise ValueError(
            f'--out {out!r}: configs with default_scope={scope!r} can dump '
            f'predictions to a file ending in {PICKLE_SUFFIXES} only; a '
            'directory of prediction images needs default_scope=\'mmseg\'')
    metrics = evaluator if isinstance(evaluator,
                                      (list, tuple)) else [evaluator]
    for metric in metrics:
        metric['output_dir'] = out
        metric['keep_results'] = True


def check_test_checkpoint(runner: Runner, path: str) -> None:
    """Refuse a checkpoint that does not fit the runner's model exactly.

    MMEngine loads ``load_from`` leniently: a checkpoint of another model
    only logs its missing and unexpected keys, and the test then measures
    a model with random weights. Call this once the runner is built and
    before ``runner.test()``: the checkpoint must be a readable PyTorch
    checkpoint (:func:`~glore_mm.utils.read_checkpoint`) with exactly the
    keys and shapes of the tested model
    (:func:`~glore_mm.utils.check_checkpoint_fits`): that of a distributed
    wrapper, or the model inside a test-time augmentation model, as
    MMEngine loads it.

    Args:
        runner (Runner): The built runner.
        path (str): The checkpoint file.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        ValueError: If it is no checkpoint, or does not fit the model;
            the message names the file.
    """
    model = runner.model
    if is_model_wrapper(model):
        model = model.module
    if isinstance(model, BaseTTAModel):
        model = model.module
    checkpoint = read_checkpoint(path)
    check_checkpoint_fits(model, checkpoint_state_dict(checkpoint), path)
