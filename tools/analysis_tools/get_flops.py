# Copyright (c) glore_mm contributors. All rights reserved.
"""Parameters and FLOPs of a model with and without its GloRe units.

Builds the config's model twice, as written and with the units removed
(``GloReResNet`` -> ``ResNet``, GloRe entries dropped from mmcv-style
``plugins``), and counts both with :mod:`glore_mm.analysis`: mmengine's
``FlopAnalyzer`` with a handle for ``aten::baddbmm``, which the unit
multiplies with and mmengine 0.10 does not count. The forward is the
inference path, ``model(inputs, mode='tensor')``: backbone, neck and head
for mmpretrain; backbone and decode head for mmseg (the training-only
auxiliary head is left out); backbone and head for mmaction; backbone,
neck, RPN and RoI heads on its proposals for mmdet's two-stage detectors
(their count depends on the proposals; the units' does not). One
multiply-add counts as one FLOP.

Example:
    python tools/analysis_tools/get_flops.py \\
        configs/mmpretrain/resnet50-glore-res3x2-res4x3_8xb32_in1k.py
"""
import argparse
from typing import List, Optional, Tuple

from mmengine.config import Config, DictAction

from glore_mm.analysis import analyse_config, config_without_units
from glore_mm.apis import load_config
from glore_mm.utils import refuse_bad_input

# Input shape per default_scope when --shape is not given: (H, W) for
# images, (T, H, W) for clips; mmseg takes the config's crop size when it
# has one; mmdet's is its COCO test scale (1333 x 800) padded to a multiple
# of 32, as its data preprocessor pads it.
DEFAULT_SHAPES = {
    'mmpretrain': (224, 224),
    'mmseg': (512, 1024),
    'mmaction': (8, 224, 224),
    'mmdet': (800, 1344)
}


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='Params and FLOPs with and without the GloRe units')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input height and width (one number: square; video: T H W); '
        'defaults to 224x224 for mmpretrain, the crop size for mmseg, '
        '8x224x224 for mmaction and 800x1344 for mmdet')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, xxx=yyy format')
    args = parser.parse_args(argv)
    if args.shape and min(args.shape) < 1:
        parser.error(f'--shape takes sizes of at least 1, got {args.shape}')
    return parser, args


def input_shape(cfg: Config, scope: str,
                shape: Optional[List[int]]) -> Tuple[int, ...]:
    """The input's shape without batch and channels: (H, W) or (T, H, W)."""
    allowed = (3, ) if scope == 'mmaction' else (1, 2)
    if shape:
        if len(shape) not in allowed:
            form = 'T H W' if scope == 'mmaction' else 'H W or one size'
            raise ValueError(f'--shape takes {form} for {scope}, got {shape}')
        return tuple(shape) if len(shape) == 3 else (shape[0], shape[-1])
    if scope not in DEFAULT_SHAPES:
        raise ValueError(f'no default input shape for default_scope '
                         f'{scope!r} (known: {sorted(DEFAULT_SHAPES)}); '
                         f'pass --shape')
    size = cfg.model.get('data_preprocessor', {}).get('size')
    return tuple(size) if scope == 'mmseg' and size else DEFAULT_SHAPES[scope]


def _size(count: float, unit: str) -> str:
    scale = {'M': 1e6, 'G': 1e9}[unit]
    return f'{count / scale:.3f}{unit}'


def _delta(new: float, old: float, unit: str) -> str:
    sign = '+' if new >= old else '-'
    return f'{sign}{_size(abs(new - old), unit)} ({(new - old) / old:+.1%})'


def main(argv: Optional[List[str]] = None) -> None:
    parser, args = parse_args(argv)
    with refuse_bad_input(parser):
        cfg = load_config(args.config, args.cfg_options)
        scope = cfg.get('default_scope')
        if scope not in DEFAULT_SHAPES:
            raise ValueError(f'config {args.config}: default_scope {scope!r} '
                             'is not supported; supported: '
                             f'{sorted(DEFAULT_SHAPES)}')
        shape = input_shape(cfg, scope, args.shape)
    if scope == 'mmseg' and cfg.model.get('auxiliary_head'):
        cfg.model.auxiliary_head = None
    # mmaction's recognizers take [N, views, C, T, H, W]
    full_shape = (1, 3, *shape) if scope == 'mmaction' else (3, *shape)

    plain_cfg, notes = config_without_units(cfg)
    full = analyse_config(cfg, full_shape)
    plain = analyse_config(plain_cfg, full_shape) if notes else None

    line = '=' * 64
    print(line)
    print(f'Config: {args.config}')
    print(f'Input shape: (1, {", ".join(map(str, full_shape))}), forward: '
          f"model(inputs, data_samples, mode='tensor')")
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
    print('FLOPs: a multiply-add is one FLOP, every matrix product of the '
          'units included (mmengine plus an aten::baddbmm handle); '
          'elementwise ops and eval-mode BN are not counted.')
    print(line)


if __name__ == '__main__':
    main()
