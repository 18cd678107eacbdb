# Copyright (c) glore_mm contributors. All rights reserved.
"""From a config to a model: the one way every tool of glore_mm takes.

:func:`load_config` reads a config file (or a ``package::path`` config of
an installed OpenMMLab library) and applies ``--cfg-options``;
:func:`init_model` builds its model as mmseg's ``init_model`` and
mmaction's ``init_recognizer`` do: in the config's ``default_scope``, with
the config's top-level ``data_preprocessor`` (mmpretrain keeps it there)
as MMEngine's Runner passes it, SyncBN turned into BN (the model runs in
one process), and a checkpoint loaded strictly
(:func:`~glore_mm.utils.load_model_checkpoint`).
"""
import copy
import os.path as osp
from typing import Dict, Optional, Union

from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from torch import nn

from glore_mm.utils import load_model_checkpoint, quiet_mmengine_logger

ConfigType = Union[str, Config]


def load_config(config: ConfigType,
                cfg_options: Optional[Dict] = None,
                import_custom_modules: bool = True) -> Config:
    """Read a config and apply ``cfg_options``.

    Args:
        config (str | Config): A config file, a ``package::path`` config of
            an installed library (``mmseg::fcn/fcn_r50-d8_...py``), or a
            config (copied).
        cfg_options (dict, optional): Settings merged into it, as
            ``--cfg-options`` gives them. Defaults to None.
        import_custom_modules (bool): Import the config's
            ``custom_imports`` (which registers the GloRe modules). Off to
            look at a config before importing any library. Defaults to
            True.

    Returns:
        Config: The config.

    Raises:
        FileNotFoundError: If ``config`` names no file.
    """
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    elif '::' in config:
        cfg = get_config(config)
    elif not osp.isfile(config):
        raise FileNotFoundError(f'config {config!r} is not a file')
    else:
        cfg = Config.fromfile(
            config, import_custom_modules=import_custom_modules)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def init_model(config: ConfigType,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[Dict] = None,
               init_weights: bool = False) -> nn.Module:
    """Build the model of a config, optionally with trained weights.

    Args:
        config (str | Config): See :func:`load_config`.
        checkpoint (str, optional): A checkpoint of the whole model, loaded
            strictly: a file that is no checkpoint or whose keys or shapes
            do not fit the model is refused with its path and what is
            wrong. Defaults to None: the weights of construction (every
            GloRe unit the identity).
        device (str): Where the model goes. Defaults to ``'cpu'``.
        cfg_options (dict, optional): See :func:`load_config`.
        init_weights (bool): Run the model's ``init_weights`` (its
            ``init_cfg``: pretrained backbones are fetched) before the
            checkpoint is loaded. Defaults to False.

    Returns:
        nn.Module: The model in eval mode, with its config as ``model.cfg``.
    """
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', None) or 'mmengine')
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor', None) is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    if init_weights:
        with quiet_mmengine_logger():  # mmengine logs every initialised key
            model.init_weights()
    model = revert_sync_batchnorm(model)
    if checkpoint is not None:
        load_model_checkpoint(model, checkpoint)
    model.cfg = cfg
    return model.to(device).eval()
