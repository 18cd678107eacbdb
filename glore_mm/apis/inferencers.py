# Copyright (c) glore_mm contributors. All rights reserved.
"""Which library a config belongs to, and its inferencer built strictly.

A config belongs to mmseg, mmpretrain, mmaction or mmdet, which its
``default_scope`` says (or, failing that, its model type).
:func:`build_inferencer` imports the config's ``custom_imports`` (which
registers the GloRe modules) and builds that library's own inferencer:
``MMSegInferencer``, ``ImageClassificationInferencer``,
``ActionRecogInferencer`` or ``DetInferencer``. What they leave out is
added here: a checkpoint that is no checkpoint, or not one of this model,
is refused (they load leniently), and mmpretrain's and mmaction's models
get BN for SyncBN without CUDA, as mmseg's and mmdet's inferencers do by
themselves.
"""
import os.path as osp
from typing import Any, Optional, Sequence, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.model import revert_sync_batchnorm
from mmengine.utils import import_modules_from_strings

from glore_mm.utils import (check_checkpoint_fits, checkpoint_state_dict,
                            read_checkpoint)
from .model import load_config

#: Model types of each library's configs, for configs without a
#: ``default_scope``.
LIBRARY_MODEL_TYPES = {
    'mmseg': ('EncoderDecoder', 'CascadeEncoderDecoder'),
    'mmpretrain': ('ImageClassifier', ),
    'mmaction': ('Recognizer2D', 'Recognizer3D'),
    'mmdet': ('MaskRCNN', 'FasterRCNN'),
}
IMAGE_LIBRARIES = ('mmseg', 'mmpretrain', 'mmdet')
VIDEO_LIBRARIES = ('mmaction', )
#: The files MMEngine reads configs from.
CONFIG_SUFFIXES = ('.json', '.py', '.yaml', '.yml')


def read_config(config: Union[str, Config]) -> Config:
    """Read a config without importing its ``custom_imports``.

    Args:
        config (str | Config): A config file, a ``package::path`` config
            or a config (copied).

    Returns:
        Config: The config.

    Raises:
        ValueError: If ``config`` names a file without a config's suffix
            (a video or a checkpoint given in its place).
        FileNotFoundError: If the file is missing.
    """
    if (isinstance(config, str) and '::' not in config
            and osp.splitext(config)[1].lower() not in CONFIG_SUFFIXES):
        raise ValueError(f'config {config!r} is not a config file: allowed '
                         f'suffixes are {list(CONFIG_SUFFIXES)}')
    return load_config(config, import_custom_modules=False)


def import_custom_modules(cfg: Config) -> None:
    """Import the config's ``custom_imports`` (the GloRe modules register
    themselves in the libraries' registries on import).

    Args:
        cfg (Config): The config.
    """
    custom_imports = cfg.get('custom_imports', None)
    if custom_imports:
        import_modules_from_strings(**custom_imports)


def config_library(cfg: Config) -> str:
    """The library a config belongs to.

    Args:
        cfg (Config): The config.

    Returns:
        str: ``'mmseg'``, ``'mmpretrain'``, ``'mmaction'`` or ``'mmdet'``:
        the config's ``default_scope`` if it is one of these, else the
        library whose model type the config's ``model.type`` is.

    Raises:
        ValueError: If neither tells.
    """
    scope = cfg.get('default_scope', None)
    if scope in LIBRARY_MODEL_TYPES:
        return scope
    model = cfg.get('model', None) or {}
    model_type = model.get('type', None) if isinstance(model, dict) else None
    for library, model_types in LIBRARY_MODEL_TYPES.items():
        if model_type in model_types:
            return library
    raise ValueError(
        f'cannot tell which library the config {cfg.filename or "<config>"} '
        f'belongs to: default_scope={scope!r}, model.type={model_type!r}; '
        f'allowed default_scope: {sorted(LIBRARY_MODEL_TYPES)}, or a model '
        f'type of {LIBRARY_MODEL_TYPES}')


def build_inferencer(config: Union[str, Config],
                     checkpoint: str,
                     device: Optional[str] = None,
                     libraries: Sequence[str] = tuple(LIBRARY_MODEL_TYPES),
                     label_file: Optional[str] = None) -> Any:
    """Build the inferencer of the config's library with a checkpoint.

    ``MMSegInferencer`` for mmseg configs, ``ImageClassificationInferencer``
    for mmpretrain configs, ``ActionRecogInferencer`` (video files) for
    mmaction configs and ``DetInferencer`` for mmdet configs, after
    importing the config's ``custom_imports``.
    Without CUDA, SyncBN layers become BN.

    Args:
        config (str | Config): Config file or config.
        checkpoint (str): Checkpoint file.
        device (str, optional): Device to run on; MMEngine picks one if
            None. Defaults to None.
        libraries (Sequence[str]): The libraries the caller accepts.
            Defaults to all four.
        label_file (str, optional): mmaction only: a text file with one
            class name per line, in class order; the inferencer's
            visualizer holds the names. Defaults to None.

    Returns:
        The inferencer: call it on inputs as the library documents.

    Raises:
        FileNotFoundError: If the config, checkpoint or label file is
            missing.
        ValueError: If the config's library is not in ``libraries``, or
            the checkpoint is no checkpoint or not one of this model.
    """
    cfg = read_config(config)
    library = config_library(cfg)
    if library not in libraries:
        raise ValueError(
            f'config {cfg.filename or "<config>"} is an {library} config, '
            f'but this takes configs of {list(libraries)}')
    if label_file is not None and library != 'mmaction':
        raise ValueError(f'label_file={label_file!r} is for mmaction '
                         f'configs, but the config is an {library} config')
    if label_file is not None and not osp.isfile(label_file):
        raise FileNotFoundError(f'label file {label_file!r} is not a file')
    # a file that is no checkpoint is refused before any model is built
    state_dict = checkpoint_state_dict(read_checkpoint(checkpoint))
    import_custom_modules(cfg)
    if library == 'mmseg':
        from mmseg.apis import MMSegInferencer
        if cfg.get('visualizer', None) is None:
            cfg.visualizer = ConfigDict(type='SegLocalVisualizer')
        # turns SyncBN into BN itself on a machine without CUDA
        inferencer = MMSegInferencer(
            model=cfg, weights=checkpoint, device=device)
    elif library == 'mmdet':
        from mmdet.apis import DetInferencer
        if cfg.get('visualizer', None) is None:
            cfg.visualizer = ConfigDict(type='DetLocalVisualizer')
        # turns SyncBN into BN itself, as mmseg's does
        inferencer = DetInferencer(
            model=cfg, weights=checkpoint, device=device)
    elif library == 'mmpretrain':
        from mmpretrain.apis import ImageClassificationInferencer
        inferencer = ImageClassificationInferencer(
            model=cfg, pretrained=checkpoint, device=device)
    else:
        from mmaction.apis import ActionRecogInferencer
        if cfg.get('visualizer', None) is None:
            cfg.visualizer = ConfigDict(type='ActionVisualizer')
        inferencer = ActionRecogInferencer(
            model=cfg,
            weights=checkpoint,
            device=device,
            label_file=label_file)
    if library != 'mmseg' and not torch.cuda.is_available():
        inferencer.model = revert_sync_batchnorm(inferencer.model)
    # the inferencers load checkpoints leniently: refuse another model's
    check_checkpoint_fits(inferencer.model, state_dict, checkpoint)
    return inferencer


def known_classes(inferencer: Any) -> Optional[Sequence[str]]:
    """The class names an inferencer of :func:`build_inferencer` knows.

    mmpretrain's holds those of the checkpoint's dataset; mmaction's those
    of its ``label_file``, in its visualizer. None if it knows none.
    """
    if hasattr(inferencer, 'classes'):
        return inferencer.classes
    visualizer = getattr(inferencer, 'visualizer', None)
    meta = getattr(visualizer, 'dataset_meta', None) or {}
    return meta.get('classes', None)
