# Copyright (c) glore_mm contributors. All rights reserved.
"""What ``tools/test.py`` does to a config for its arguments, and the
check of the checkpoint before a test.

Each test argument of :mod:`glore_mm.engine.arguments` makes the config
edit that the upstream tool taking it makes; :func:`apply_test_args`
applies them all. An argument that makes no sense for the config's library
raises ``ValueError`` naming the argument and the library.
"""
import argparse
from copy import deepcopy
from typing import Dict, Optional

import mmengine
from mmengine.config import Config, ConfigDict
from mmengine.dist import is_main_process
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner

from glore_mm.utils import (atomic_output, check_checkpoint_fits,
                            checkpoint_state_dict, read_checkpoint)
from .missing_hooks import config_name
from .runner_setup import library, switch_off_loader_options

PICKLE_SUFFIXES = ('.pkl', '.pickle')
#: Files ``--out-item metrics`` writes: what ``mmengine.dump`` writes.
METRICS_SUFFIXES = ('.json', '.yaml', '.yml', *PICKLE_SUFFIXES)
#: The metric that keeps the predictions, per scope: mmdet's tool dumps
#: with its ``DumpDetResults`` (masks encoded), the others with MMEngine's.
DUMP_METRICS = {'mmdet': 'DumpDetResults'}
#: Scopes whose test tools have a default flip test-time augmentation.
FLIP_TTA_SCOPES = ('mmpretrain', 'mmdet')
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


def enable_visualization(cfg: Config,
                         show: bool,
                         show_dir: Optional[str],
                         wait_time: float,
                         interval: int = 1) -> None:
    """Apply ``--show``/``--show-dir`` (and ``--interval``): draw the test
    samples.

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
        interval (int): Draw every ``interval``-th sample. Defaults to 1.

    Raises:
        ValueError: If the config has no ``default_hooks.visualization``,
            its ``default_scope`` has no known visualization hook, or
            ``interval`` is below 1.
    """
    option = '--show-dir' if show_dir else '--show'
    scope = cfg.get('default_scope', None)
    if scope not in VISUALIZATION_HOOKS:
        raise ValueError(
            f'{option}: default_scope={scope!r} of {config_name(cfg)} has '
            'no known visualization hook; allowed scopes: '
            f'{sorted(VISUALIZATION_HOOKS)}')
    if interval < 1:
        raise ValueError(f'--interval must be at least 1, but got {interval}')
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
    hook.interval = interval
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


def flip_tta(cfg: Config) -> None:
    """Fill in the flip test-time augmentation of mmpretrain's and mmdet's
    test tools where the config lacks ``tta_model`` or ``tta_pipeline``.

    The pipeline is the test pipeline with its last step (the packing)
    replaced by ``TestTimeAug`` over a flipped and an unflipped copy;
    mmpretrain averages the class scores (``AverageClsScoreTTA``), mmdet
    merges the boxes with NMS at IoU 0.5 (``DetTTAModel``), as their tools
    do.

    Args:
        cfg (Config): An mmpretrain or mmdet config to edit.
    """
    scope = cfg.get('default_scope', None)
    flip = [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)]
    dataset = cfg.test_dataloader.dataset
    if scope == 'mmdet':
        while 'dataset' in dataset:  # wrappers such as ConcatDataset
            dataset = dataset.dataset
        model = dict(
            type='DetTTAModel',
            tta_cfg=dict(
                nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
        pack = dict(
            type='PackDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                       'scale_factor', 'flip', 'flip_direction'))
    else:
        model = dict(type='mmpretrain.AverageClsScoreTTA')
        pack = dataset.pipeline[-1]
    if cfg.get('tta_model', None) is None:
        cfg.tta_model = model
    if cfg.get('tta_pipeline', None) is None:
        cfg.tta_pipeline = deepcopy(dataset.pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug', transforms=[flip, [pack]])


def enable_tta(cfg: Config) -> None:
    """Apply ``--tta``: test with ``cfg.tta_pipeline`` and ``cfg.tta_model``.

    mmpretrain and mmdet configs without them get their tools' flip
    augmentation (:func:`flip_tta`).

    Args:
        cfg (Config): The config to edit.

    Raises:
        ValueError: If a config of another library lacks ``tta_pipeline``
            or ``tta_model``.
    """
    if cfg.get('default_scope', None) in FLIP_TTA_SCOPES:
        flip_tta(cfg)
    missing = [
        key for key in ('tta_pipeline', 'tta_model')
        if cfg.get(key, None) is None
    ]
    if missing:
        raise ValueError(
            f'--tta needs tta_pipeline and tta_model in {config_name(cfg)}, '
            f'but {" and ".join(missing)} '
            f'{"is" if len(missing) == 1 else "are"} not set; only '
            f'{" and ".join(FLIP_TTA_SCOPES)} configs have a default, and '
            f'this one is of library {library(cfg)}')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)


def enable_test_amp(cfg: Config) -> None:
    """Apply ``--amp`` of ``tools/test.py``: ``test_cfg.fp16=True``.

    MMEngine's ``TestLoop`` then runs the model under its ``autocast``:
    float16 on CUDA, bfloat16 on the CPU.

    Args:
        cfg (Config): The config to edit.

    Raises:
        ValueError: If the config has no ``test_cfg``.
    """
    if cfg.get('test_cfg', None) is None:
        raise ValueError(
            f'--amp needs test_cfg in {config_name(cfg)}, but it has none; '
            "add e.g. test_cfg=dict(type='TestLoop')")
    cfg.test_cfg.fp16 = True


def dump_predictions(cfg: Config, path: str, option: str) -> None:
    """Keep the test predictions in ``path``: add a dump metric to
    ``test_evaluator``, mmdet's ``DumpDetResults`` for mmdet configs and
    MMEngine's ``DumpResults`` for the others, as their tools do.

    Args:
        cfg (Config): The config to edit.
        path (str): A ``.pkl`` or ``.pickle`` file.
        option (str): The argument that gave ``path``, for messages.

    Raises:
        ValueError: If ``path`` is not a pickle file.
    """
    if not path.endswith(PICKLE_SUFFIXES):
        raise ValueError(f'{option} {path!r}: the predictions go to a file '
                         f'ending in {PICKLE_SUFFIXES}')
    metric = DUMP_METRICS.get(cfg.get('default_scope', None), 'DumpResults')
    dump = ConfigDict(type=metric, out_file_path=path)
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, (list, tuple)):
        cfg.test_evaluator = [*evaluator, dump]
    else:
        cfg.test_evaluator = [evaluator, dump]


def set_test_output(cfg: Config,
                    out: str,
                    out_item: Optional[str] = None) -> None:
    """Apply ``--out`` (and ``--out-item``): keep the test predictions or
    metrics.

    A ``.pkl``/``.pickle`` path gets the predictions
    (:func:`dump_predictions`). Any other path is a directory for mmseg's
    metrics to write one prediction PNG per image into (``output_dir``,
    ``keep_results=True``, as mmseg's test tool does). With
    ``out_item='metrics'`` the config is left alone: the tool writes the
    metrics to ``out`` after the test (:func:`dump_metrics`).

    Args:
        cfg (Config): The config to edit.
        out (str): The file or directory.
        out_item (str, optional): ``'metrics'`` or ``'pred'``; None means
            ``'pred'``. Defaults to None.

    Raises:
        ValueError: If ``out`` is a directory and the config is not an mmseg
            config, or ``out_item`` is ``'metrics'`` and ``out`` is not a
            file ``mmengine.dump`` writes.
    """
    if out_item == 'metrics':
        if not out.endswith(METRICS_SUFFIXES):
            raise ValueError(f'--out {out!r} with --out-item metrics: the '
                             f'metrics go to a file ending in '
                             f'{METRICS_SUFFIXES}')
        return
    if out.endswith(PICKLE_SUFFIXES):
        dump_predictions(cfg, out, '--out')
        return
    scope = cfg.get('default_scope', None)
    if scope != 'mmseg':
        raise ValueError(
            f'--out {out!r}: configs with default_scope={scope!r} can dump '
            f'predictions to a file ending in {PICKLE_SUFFIXES} only; a '
            'directory of prediction images needs default_scope=\'mmseg\'')
    evaluator = cfg.test_evaluator
    metrics = evaluator if isinstance(evaluator,
                                      (list, tuple)) else [evaluator]
    for metric in metrics:
        metric['output_dir'] = out
        metric['keep_results'] = True


def dump_metrics(metrics: Dict, path: str) -> None:
    """Write the test's metrics to ``path`` (``--out-item metrics``), on
    the main process, atomically; the suffix chooses the format.

    Args:
        metrics (dict): What ``runner.test()`` returned.
        path (str): A file ending in one of :data:`METRICS_SUFFIXES`.
    """
    if not is_main_process():
        return
    with atomic_output(path) as tmp:
        mmengine.dump(metrics, tmp)


def apply_test_args(cfg: Config, args: argparse.Namespace) -> None:
    """Make the config edits that the arguments of ``tools/test.py`` ask
    for (see :func:`glore_mm.engine.arguments.build_test_parser`): the
    checkpoint, no training, drawing, augmentation, precision, loader and
    outputs.

    Args:
        cfg (Config): The config, read by :func:`config_from_args`.
        args (argparse.Namespace): The parsed command line.

    Raises:
        ValueError: If an argument makes no sense for the config or
            without another one.
    """
    if args.out_item is not None and args.out is None:
        raise ValueError(f'--out-item {args.out_item} needs --out, the file '
                         'to write to')
    drawing = args.show or args.show_dir
    if args.interval is not None and not drawing:
        raise ValueError(f'--interval {args.interval} needs --show or '
                         '--show-dir, the drawing it thins out')
    cfg.load_from = args.checkpoint
    drop_training(cfg)
    if drawing:
        interval = 1 if args.interval is None else args.interval
        enable_visualization(cfg, args.show, args.show_dir, args.wait_time,
                             interval)
    if args.tta:
        enable_tta(cfg)
    if args.amp:
        enable_test_amp(cfg)
    switch_off_loader_options(cfg, ('test_dataloader', ), args.no_pin_memory)
    if args.out is not None:
        set_test_output(cfg, args.out, args.out_item)
    if args.dump is not None:
        dump_predictions(cfg, args.dump, '--dump')


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
