# Copyright (c) glore_mm contributors. All rights reserved.
"""Parameters and FLOPs of models with GloRe units, one counter for all.

mmengine's ``FlopAnalyzer`` (the analysis behind
``get_model_complexity_info``) traces the model and counts each operator it
has a handle for. Version 0.10 has none for ``aten::baddbmm``, with which
the GloRe unit takes most of its products (a product plus a bias, or plus
the residual), so on its own it misses most of a unit's cost.
:func:`flop_analyzer` adds that handle; every tool that reports FLOPs goes
through it. A multiply-add counts as one FLOP, as in mmengine and fvcore;
elementwise operations and eval-mode BN are not counted.
"""
import copy
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer
from mmengine.analysis.jit_handles import bmm_flop_jit
from mmengine.config import Config
from mmengine.registry import MODELS
from mmengine.structures import BaseDataElement

from glore_mm.apis import init_model
from glore_mm.models import GloReNd, glore_units_of
from glore_mm.utils import quiet_mmengine_logger


def baddbmm_flop_jit(inputs: List, outputs: List) -> int:
    """FLOPs of ``aten::baddbmm(input, batch1, batch2)``.

    The product's multiply-adds, as the ``aten::bmm`` handle counts them;
    the added input is not counted, as the ``aten::addmm`` handle does not
    count its bias.
    """
    return bmm_flop_jit(inputs[1:3], outputs)


def flop_analyzer(model: nn.Module, inputs: Tuple) -> FlopAnalyzer:
    """mmengine's ``FlopAnalyzer`` for ``model(*inputs)``, units counted.

    Warnings about operators without a handle (elementwise ones) and about
    modules the forward does not call are off.
    """
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.set_op_handle('aten::baddbmm', baddbmm_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer


class TensorForward(nn.Module):
    """Runs ``model(inputs, data_samples, mode='tensor')``: the inference
    path.

    For mmpretrain that is backbone, neck and head; for mmseg backbone and
    decode head; for mmaction backbone and classification head; for mmdet's
    two-stage detectors backbone, neck, the RPN's proposals and the RoI
    heads on them. The data samples carry each input's shape, which the
    detectors read (the other libraries ignore them).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        height, width = inputs.shape[-2:]
        shape = (int(height), int(width))
        data_samples = [
            BaseDataElement(
                metainfo=dict(
                    img_shape=shape,
                    ori_shape=shape,
                    pad_shape=shape,
                    batch_input_shape=shape,
                    scale_factor=(1.0, 1.0))) for _ in range(len(inputs))
        ]
        return self.model(inputs, data_samples, mode='tensor')


def count_complexity(model: nn.Module, inputs: Tuple) -> Dict:
    """Parameters and FLOPs of ``model(*inputs)``, in eval mode.

    Returns:
        dict: ``params`` and ``flops`` of the whole model, ``by_operator``
        (FLOPs per operator name), ``num_units``, ``unit_params`` and
        ``unit_flops`` of its GloRe units.
    """
    model.eval()
    units = glore_units_of(model)
    with torch.no_grad(), quiet_mmengine_logger():
        analyzer = flop_analyzer(model, inputs)
        by_module = analyzer.by_module()
        by_operator = dict(analyzer.by_operator())
    return dict(
        params=sum(p.numel() for p in model.parameters()),
        flops=by_module[''],
        by_operator=by_operator,
        num_units=len(units),
        unit_params=sum(p.numel() for unit in units.values()
                        for p in unit.parameters()),
        unit_flops=sum(by_module[name] for name in units))


def remove_units(model_cfg: Dict,
                 scope: Optional[str] = None) -> Tuple[Dict, List[str]]:
    """A copy of ``model_cfg`` without GloRe units, and what was removed.

    A module class that carries GloRe units says what it is without them:
    its ``plain_class()`` (backbones built by :class:`GloReInsertionMixin`
    become their upstream class, ``GloReHead`` mmseg's ``FCNHead``) and
    its ``glore_keys`` (the arguments only the units take), which are
    dropped. GloRe units in mmcv-style ``plugins`` lists are dropped.

    Args:
        model_cfg (dict): The model's config.
        scope (str, optional): The registry scope its types are named in.
            Defaults to None: the current default scope.

    Returns:
        tuple: The config and one note per change.
    """
    cfg = copy.deepcopy(model_cfg)
    notes: List[str] = []

    def resolve(type_name, scope: Optional[str]) -> Optional[type]:
        if not isinstance(type_name, str):
            return type_name if isinstance(type_name, type) else None
        with MODELS.switch_scope_and_registry(scope) as registry:
            return registry.get(type_name)

    def is_unit(cls: Optional[type]) -> bool:
        return isinstance(cls, type) and issubclass(cls, GloReNd)

    def visit(node, path: str, scope: Optional[str]) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                visit(item, f'{path}[{i}]', scope)
            return
        if not isinstance(node, dict):
            return
        # A config inherited with `mmpretrain::` carries its scope along.
        scope = node.get('_scope_', scope)
        cls = resolve(node.get('type'), scope)
        if isinstance(cls, type) and callable(
                getattr(cls, 'plain_class', None)):
            plain = cls.plain_class()
            node['type'] = plain
            for key in cls.glore_keys:
                node.pop(key, None)
            notes.append(f'{path}: {cls.__name__} -> {plain.__name__}')
        plugins = node.get('plugins')
        if isinstance(plugins, list):
            kept = [
                p for p in plugins
                if not is_unit(resolve(p.get('cfg', {}).get('type'), scope))
            ]
            dropped = len(plugins) - len(kept)
            if dropped:
                notes.append(f'{path}.plugins: dropped {dropped} GloRe '
                             f"entr{'y' if dropped == 1 else 'ies'}")
                node['plugins'] = kept or None
        for key, value in node.items():
            if key != 'plugins':
                visit(value, f'{path}.{key}', scope)

    visit(cfg, 'model', scope)
    return cfg, notes


def config_without_units(cfg: Config) -> Tuple[Config, List[str]]:
    """A copy of ``cfg`` whose model has no GloRe units (:func:`remove_units`
    in the config's ``default_scope``), and what was removed."""
    plain = copy.deepcopy(cfg)
    plain.model, notes = remove_units(cfg.model,
                                      cfg.get('default_scope', None))
    return plain, notes


def analyse_config(cfg: Config, shape: Tuple[int, ...]) -> Dict:
    """:func:`count_complexity` of the inference path of a config's model.

    Builds the model with :func:`~glore_mm.apis.init_model` (seeded) and
    counts ``model(inputs, mode='tensor')`` on one random input of
    ``shape`` (without the batch axis, e.g. ``(3, 224, 224)``).
    """
    torch.manual_seed(0)
    model = TensorForward(init_model(cfg))
    return count_complexity(model, (torch.rand(1, *shape), ))
