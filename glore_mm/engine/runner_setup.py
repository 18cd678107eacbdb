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
from typing import Any, Optional

from mmengine.config import Config, ConfigDict
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner

from .cpu_distributed import NO_LAUNCHER, setup_cpu_distributed

PICKLE_SUFFIXES = ('.pkl', '.pickle')
# Per scope: the switch of its visualization hook and the hook's type.
# mmseg's SegVisualizationHook has ``draw`` and draws through the visualizer's
# ``save_dir``; the VisualizationHook of mmpretrain and mmaction has
# ``enable`` and an ``out_dir`` of its own.
VISUALIZATION_HOOKS = {
    'mmseg': ('draw', 'SegVisualizationHook'),
    'mmpretrain': ('enable', 'VisualizationHook'),
    'mmaction': ('enable', 'VisualizationHook'),
}
# Imported by configs that name TestProgressBarHook or
# CPUDistributedDataParallel, so that the config dumped to the work_dir runs
# with other tools too.
ENGINE_MODULE = 'glore_mm.engine'
# Checkpoint hooks use_atomic_checkpoints turns into AtomicCheckpointHook.
CHECKPOINT_HOOKS = ('CheckpointHook', 'AtomicCheckpointHook')


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the shared arguments.

    ``--cfg-options`` are merged first; the work_dir is then taken from
    ``--work-dir``, else the config, else ``./work_dirs/<config name>``.

    Args:
        args (argparse.Namespace): Arguments with ``config``, ``launcher``,
            ``cfg_options`` and ``work_dir``.

    Returns:
        Config: The config, ready for the tool's own changes.
    """
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def _import_engine(cfg: Config) -> None:
    """Add :data:`ENGINE_MODULE` to ``cfg.custom_imports``."""
    custom_imports = cfg.get('custom_imports', None)
    if custom_imports is None:
        cfg.custom_imports = ConfigDict(
            imports=[ENGINE_MODULE], allow_failed_imports=False)
        return
    imports = custom_imports.get('imports', [])
    imports = [imports] if isinstance(imports, str) else list(imports)
    if ENGINE_MODULE not in imports:
        imports.append(ENGINE_MODULE)
    custom_imports.imports = imports


def _type_name(hook_type: Any) -> str:
    """The class name a hook config's ``type`` (a name or a class) names."""
    name = hook_type if isinstance(hook_type, str) else getattr(
        hook_type, '__name__', str(hook_type))
    return name.split('.')[-1]


def _add_custom_hook(cfg: Config, hook_type: str) -> None:
    """Add ``dict(type=hook_type)`` to ``cfg.custom_hooks`` (once)."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(
            _type_name(hook.get('type', '')) == hook_type for hook in hooks):
        hooks.append(ConfigDict(type=hook_type))
    cfg.custom_hooks = hooks
    _import_engine(cfg)


def add_progress_bar(cfg: Config) -> None:
    """Add a ``TestProgressBarHook`` to ``cfg.custom_hooks`` (once).

    Args:
        cfg (Config): The config to edit.
    """
    _add_custom_hook(cfg, 'TestProgressBarHook')


def add_random_state_hook(cfg: Config) -> None:
    """Add a ``RandomStateHook`` to ``cfg.custom_hooks`` (once).

    Checkpoints then hold every random state, and ``--resume`` continues
    exactly where the checkpoint left off.

    Args:
        cfg (Config): The config to edit.
    """
    _add_custom_hook(cfg, 'RandomStateHook')


def use_atomic_checkpoints(cfg: Config) -> None:
    """Save checkpoints with ``AtomicCheckpointHook``.

    A ``default_hooks.checkpoint`` of type ``CheckpointHook`` becomes an
    ``AtomicCheckpointHook`` with the same arguments; a config without one
    gets MMEngine's default (``interval=1``) as an ``AtomicCheckpointHook``.
    ``default_hooks.checkpoint=None`` (no checkpoints) stays as it is.

    Args:
        cfg (Config): The config to edit.

    A checkpoint hook of another type is kept, with a warning that its
    writes are not known to be atomic.
    """
    if cfg.get('default_hooks', None) is None:
        cfg.default_hooks = ConfigDict()
    if 'checkpoint' not in cfg.default_hooks:
        cfg.default_hooks.checkpoint = ConfigDict(
            type='AtomicCheckpointHook', interval=1)
    hook = cfg.default_hooks.checkpoint
    if hook is None:
        return
    name = _type_name(hook.get('type', ''))
    if name not in CHECKPOINT_HOOKS:
        print_log(
            f'default_hooks.checkpoint.type={name!r} in {_config_name(cfg)} '
            'is kept: only the types '
            f'{CHECKPOINT_HOOKS} become AtomicCheckpointHook, so a kill '
            'during a save may leave a broken checkpoint.',
            logger='current',
            level=logging.WARNING)
        return
    hook.type = 'AtomicCheckpointHook'
    _import_engine(cfg)


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
        _import_engine(cfg)
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    if cfg.get('default_scope', None) is not None:
        init_default_scope(cfg.default_scope)
    return RUNNERS.build(cfg)


def _config_name(cfg: Config) -> str:
    return cfg.filename or '<config>'


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
                         f'{_config_name(cfg)}, but got {wrapper_type!r}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def enable_visualization(cfg: Config, show: bool, show_dir: Optional[str],
                         wait_time: float) -> None:
    """Apply ``--show``/``--show-dir``: draw every test sample.

    mmseg configs get ``draw=True`` on their ``SegVisualizationHook`` and
    the visualizer's ``save_dir`` set to ``show_dir`` (images land under
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
            f'{option}: default_scope={scope!r} of {_config_name(cfg)} has '
            'no known visualization hook; allowed scopes: '
            f'{sorted(VISUALIZATION_HOOKS)}')
    style, hook_type = VISUALIZATION_HOOKS[scope]
    default_hooks = cfg.get('default_hooks', None) or {}
    hook = default_hooks.get('visualization', None)
    if hook is None:
        raise ValueError(
            f'{option} needs default_hooks.visualization in '
            f'{_config_name(cfg)}, but the config has default_hooks keys '
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
                         f'{_config_name(cfg)}, but it has none')
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
            f'--tta needs tta_pipeline and tta_model in {_config_name(cfg)}, '
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
