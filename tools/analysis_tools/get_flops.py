# Copyright (c) glore_mm contributors. All rights reserved.
"""Parameters and FLOPs of a model with and without its GloRe units.

Builds the config's model twice, as written and with the units removed
(``GloReResNet`` -> ``ResNet``, GloRe entries dropped from mmcv-style
``plugins``), and counts both with mmengine's analysis
(``mmengine.analysis.get_model_complexity_info``). The forward is the
inference path, ``model(inputs, mode='tensor')``: backbone, neck and head
for mmpretrain; backbone and decode head for mmseg (the training-only
auxiliary head is left out). FLOPs follow mmengine/fvcore: one
multiply-add counts as one.

Example:
    python tools/analysis_tools/get_flops.py \\
        configs/mmpretrain/resnet50-glore-res3x2-res4x3_8xb32_in1k.py
"""
import argparse
import copy
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, get_model_complexity_info
from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, init_default_scope

from glore_mm.models.insertion import GloReInsertionMixin
from glore_mm.models.layers.glore import _GloReNd
from glore_mm.utils import quiet_mmengine_logger

# Input shape (H, W) per default_scope when --shape is not given; mmseg
# takes the config's crop size when it has one.
DEFAULT_SHAPES = {'mmpretrain': (224, 224), 'mmseg': (512, 1024)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Params and FLOPs with and without the GloRe units')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input height and width (one number: square); defaults to '
        '224x224 for mmpretrain and the crop size for mmseg')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, xxx=yyy format')
    return parser.parse_args()


class TensorForward(nn.Module):
    """Runs ``model(inputs, mode='tensor')``: the inference path."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs, mode='tensor')


def remove_units(model_cfg: Dict) -> Tuple[Dict, List[str]]:
    """A copy of ``model_cfg`` without GloRe units, and what was removed.

    Backbones built by :class:`GloReInsertionMixin` become their upstream
    class; GloRe units in mmcv-style ``plugins`` lists are dropped.
    """
    cfg = copy.deepcopy(model_cfg)
    notes: List[str] = []

    def resolve(type_name, scope: Optional[str]) -> Optional[type]:
        if not isinstance(type_name, str):
            return type_name if isinstance(type_name, type) else None
        with MODELS.switch_scope_and_registry(scope) as registry:
            return registry.get(type_name)

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
        if isinstance(cls, type) and issubclass(cls, GloReInsertionMixin):
            plain = cls.plain_backbone_class()
            node['type'] = plain
            node.pop('glore_units', None)
            node.pop('glore_cfg', None)
            notes.append(f'{path}: {cls.__name__} -> {plain.__name__}')
        plugins = node.get('plugins')
        if isinstance(plugins, list):
            kept = [
                p for p in plugins
                if not _is_unit(resolve(p.get('cfg', {}).get('type'), scope))
            ]
            dropped = len(plugins) - len(kept)
            if dropped:
                notes.append(f'{path}.plugins: dropped {dropped} GloRe '
                             f"entr{'y' if dropped == 1 else 'ies'}")
                node['plugins'] = kept or None
        for key, value in node.items():
            if key != 'plugins':
                visit(value, f'{path}.{key}', scope)

    visit(cfg, 'model', None)
    return cfg, notes


def _is_unit(cls: Optional[type]) -> bool:
    return isinstance(cls, type) and issubclass(cls, _GloReNd)


def analyse(model_cfg: Dict, shape: Tuple[int, int]) -> Dict:
    """Params, FLOPs and the GloRe units' share of the model's FLOPs."""
    torch.manual_seed(0)
    # Builders may write into their config (mmseg's EncoderDecoder does).
    model = TensorForward(MODELS.build(copy.deepcopy(model_cfg))).eval()
    inputs = (torch.rand(1, 3, *shape), )
    with torch.no_grad(), quiet_mmengine_logger():
        info = get_model_complexity_info(
            model, inputs=inputs, show_table=False, show_arch=False)
        units = {
            name: m
            for name, m in model.named_modules() if isinstance(m, _GloReNd)
        }
        unit_flops = 0
        if units:
            by_module = FlopAnalyzer(model, inputs).unsupported_ops_warnings(
                False).uncalled_modules_warnings(False).by_module()
            unit_flops = sum(by_module[name] for name in units)
    return dict(
        params=info['params'],
        flops=info['flops'],
        num_units=len(units),
        unit_params=sum(p.numel() for m in units.values()
                        for p in m.parameters()),
        unit_flops=unit_flops)


def _size(count: float, unit: str) -> str:
    scale = {'M': 1e6, 'G': 1e9}[unit]
    return f'{count / scale:.3f}{unit}'


def _delta(new: float, old: float, unit: str) -> str:
    sign = '+' if new >= old else '-'
    return f'{sign}{_size(abs(new - old), unit)} ({(new - old) / old:+.1%})'


def input_shape(cfg: Config, scope: str,
                shape: Optional[List[int]]) -> Tuple[int, int]:
    if shape:
        if len(shape) not in (1, 2):
            raise ValueError(f'--shape takes H W or one size, got {shape}')
        return (shape[0], shape[-1])
    if scope not in DEFAULT_SHAPES:
        raise ValueError(f'no default input shape for default_scope '
                         f'{scope!r} (known: {sorted(DEFAULT_SHAPES)}); '
                         f'pass --shape')
    size = cfg.model.get('data_preprocessor', {}).get('size')
    return tuple(size) if scope == 'mmseg' and size else DEFAULT_SHAPES[scope]


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    scope = cfg.get('default_scope')
    if scope not in DEFAULT_SHAPES:
        raise ValueError(f'{args.config}: default_scope {scope!r} is not '
                         f'supported; supported: {sorted(DEFAULT_SHAPES)}')
    init_default_scope(scope)
    shape = input_shape(cfg, scope, args.shape)
    model_cfg = cfg.model
    if scope == 'mmseg' and model_cfg.get('auxiliary_head'):
        model_cfg.auxiliary_head = None

    plain_cfg, notes = remove_units(model_cfg)
    full = analyse(model_cfg, shape)
    plain = analyse(plain_cfg, shape) if notes else None

    line = '=' * 64
    print(line)
    print(f'Config: {args.config}')
    print(f'Input shape: (1, 3, {shape[0]}, {shape[1]}), forward: '
          f"model(inputs, mode='tensor')")
    print(f"{'':16}{'params':>20}{'FLOPs':>24}")
    print(f"{'with units':16}{_size(full['params'], 'M'):>20}"
          f"{_size(full['flops'], 'G'):>24}")
    if plain is None:
        print(f"{'without units':16}{'n/a: no GloRe backbone or plugin':>44}")
    else:
        print(f"{'without units':16}{_size(plain['params'], 'M'):>20}"
              f"{_size(plain['flops'], 'G'):>24}")
        print(f"{'delta':16}"
              f"{_delta(full['params'], plain['params'], 'M'):>20}"
              f"{_delta(full['flops'], plain['flops'], 'G'):>24}")
        print('Removed: ' + '; '.join(notes))
    print(f"GloRe units in the model: {full['num_units']}, "
          f"{_size(full['unit_params'], 'M')} params, "
          f"{_size(full['unit_flops'], 'G')} FLOPs")
    print('FLOPs as counted by mmengine: a multiply-add is one FLOP; '
          'elementwise ops and eval-mode BN are not counted.')
    print(line)


if __name__ == '__main__':
    main()
