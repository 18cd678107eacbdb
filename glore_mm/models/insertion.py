# Copyright (c) glore_mm contributors. All rights reserved.
"""Put GloRe units after residual blocks of an existing OpenMMLab backbone.

One mechanism for every ResNet-shaped backbone, without a fork of the
upstream class: a thin subclass mixes :class:`GloReInsertionMixin` into it
(``class GloReResNet(GloReInsertionMixin, ResNet)``) and two config keys,
identical across libraries, say where the units go and what they are::

    backbone=dict(
        type='GloReResNet',                 # mmpretrain's ResNet + units
        depth=50,
        glore_units=dict(layer2=[0, 2], layer3=[0, 2, 4]),  # or 'paper'
        glore_cfg=dict(type='GloRe2d', normalize=False))

This module imports torch, mmengine and mmcv only; the subclasses live next
to their libraries (``glore_mm.mmpretrain``, ``glore_mm.mmseg``, ...).
"""
import inspect
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor
from torch.nn.modules.conv import _ConvNd

from .layers.glore import GloReNd, gate_norm_cfg

#: Name of a unit inside its residual block: ``layer3.1.glore``.
UNIT_NAME = 'glore'

#: The authors' placements, in their 1-based block numbers: a unit after
#: block i of res3 when ``i in [1, 3]``, of res4 when ``i in [1, 3, 5]``
#: (ResNet-50) or ``i in [6, 12, 18]`` (ResNet-101). Their loops count
#: blocks from 1 (``for i in range(1, k_sec[s] + 1)``, modules ``B01``,
#: ``B02``...): facebookresearch/GloRe, ``network/resnet50_3d_gcn_x5.py``
#: lines 112-122 (res3) and 129-139 (res4), the same lines of
#: ``network/resnet101_3d_gcn_x5.py``. The paper's res3/res4 are
#: OpenMMLab's ``layer2``/``layer3``.
AUTHORS_RES3_BLOCKS = (1, 3)
AUTHORS_RES4_BLOCKS = {50: (1, 3, 5), 101: (6, 12, 18)}


def _module_indices(blocks: Sequence[int]) -> Tuple[int, ...]:
    """0-based module indices of 1-based block numbers: B01 is ``.0``."""
    return tuple(block - 1 for block in blocks)


_DEPTH_PLACEMENTS = {
    'res4x3': {
        depth: dict(layer3=_module_indices(res4))
        for depth, res4 in AUTHORS_RES4_BLOCKS.items()
    },
    'res3x2-res4x3': {
        depth:
        dict(
            layer2=_module_indices(AUTHORS_RES3_BLOCKS),
            layer3=_module_indices(res4))
        for depth, res4 in AUTHORS_RES4_BLOCKS.items()
    },
}
# Our own placements, not the authors': one unit after the last block of a
# stage, the same for every depth.
_STAGE_END_PLACEMENTS = {
    'res3x1': dict(layer2=(-1, )),
    'res4x1': dict(layer3=(-1, )),
}
_ALIASES = {'paper': 'res3x2-res4x3'}
#: Names ``glore_units`` accepts instead of a dict.
GLORE_PRESETS = tuple(
    sorted([*_ALIASES, *_DEPTH_PLACEMENTS, *_STAGE_END_PLACEMENTS]))

Placement = Dict[str, Tuple[int, ...]]
#: What ``glore_units`` takes: a preset name or a placement.
GloReUnits = Union[str, Dict[str, Sequence[int]]]


def resolve_preset(name: str, depth: Optional[int]) -> Placement:
    """The placement ``{layer_name: block_indices}`` of a preset name.

    Args:
        name (str): One of :data:`GLORE_PRESETS`. ``'paper'`` is
            ``'res3x2-res4x3'``, the authors' "+2+3" (ResNet-50:
            ``layer2=(0, 2), layer3=(0, 2, 4)``) and "+5" (ResNet-101:
            ``layer2=(0, 2), layer3=(5, 11, 17)``); ``'res4x3'`` is their
            res4 part alone, the paper's "+3". ``'res3x1'`` and
            ``'res4x1'`` are our own placements, not the paper's "+1": one
            unit after the last block of res3/res4.
        depth (int, optional): Depth of the ResNet; the paper's multi-unit
            placements exist for 50 and 101 only.

    Returns:
        dict: Block indices per residual layer name.
    """
    key = _ALIASES.get(name, name)
    if key in _STAGE_END_PLACEMENTS:
        return dict(_STAGE_END_PLACEMENTS[key])
    if key not in _DEPTH_PLACEMENTS:
        raise ValueError(f'glore_units={name!r} is not a preset; allowed: '
                         f'{list(GLORE_PRESETS)} or a dict such as '
                         f"dict(layer3=[0, 2, 4])")
    by_depth = _DEPTH_PLACEMENTS[key]
    if depth not in by_depth:
        raise ValueError(
            f'glore_units={name!r} has no placement for depth={depth}: the '
            f'authors placed units in ResNet-{sorted(by_depth)} only; for '
            f'this depth pass glore_units explicitly, e.g. '
            f"glore_units=dict(layer3=[-1]) or one of 'res3x1', 'res4x1'")
    return dict(by_depth[depth])


def check_placement(placement: Dict[str, Sequence[int]],
                    layer_sizes: Dict[str, int],
                    source: str = 'glore_units') -> Placement:
    """Validate block indices against the layers and make them 0-based.

    Args:
        placement (dict): ``{layer_name: [block_index, ...]}``; negative
            indices count from the end of the layer.
        layer_sizes (dict): Number of blocks of each residual layer.
        source (str): How to name the placement in errors.

    Returns:
        dict: The same placement with sorted, non-negative indices.
    """
    result = {}
    for layer, indices in placement.items():
        if layer not in layer_sizes:
            raise ValueError(
                f'{source} names layer {layer!r}, which this backbone does '
                f'not have; allowed: {list(layer_sizes)}')
        if not isinstance(indices, (list, tuple)):
            raise TypeError(
                f'{source}[{layer!r}] must be a list of block indices, but '
                f'got {indices!r}')
        size = layer_sizes[layer]
        resolved = []
        for index in indices:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f'{source}[{layer!r}] must hold int block '
                                f'indices, but got {index!r}')
            if not -size <= index < size:
                raise ValueError(
                    f'{source}[{layer!r}] has block index {index}, out of '
                    f'range for {layer} with {size} blocks; allowed: '
                    f'{-size}..{size - 1}')
            index %= size
            if index in resolved:
                raise ValueError(
                    f'{source}[{layer!r}]={list(indices)} places two units '
                    f'after block {layer}.{index}; give each block once')
            resolved.append(index)
        if resolved:
            result[layer] = tuple(sorted(resolved))
    return result


def _apply_unit(block: nn.Module, args: Tuple, output: Tensor) -> Tensor:
    """Forward hook of a residual block: its output through its unit.

    A module-level function reading the unit from the block it is called
    with, so deep copies (EMA models) and pickles apply their own units.
    """
    return getattr(block, UNIT_NAME)(output)


def _unit_types(spatial_dims: Sequence[int]) -> List[str]:
    """Names of the GloRe unit classes of any of ``spatial_dims``."""
    found, stack = [], [GloReNd]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.spatial_dims in spatial_dims:
            found.append(cls.__name__)
    return sorted(found)


def _init_args(cls: type) -> List[str]:
    """Keyword names accepted by ``cls.__init__`` along its **kwargs chain."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD,
             inspect.Parameter.KEYWORD_ONLY)
    names = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass) or klass is object:
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names.update(p.name for p in params if p.kind in named)
        if all(p.kind != p.VAR_KEYWORD for p in params):
            break
    return sorted(names - {'self'})


class GloReInsertionMixin:
    """Mixin that puts GloRe units after residual blocks of a backbone.

    Mixed in front of an upstream backbone with ResNet's layout (a
    ``res_layers`` list naming ``nn.Sequential`` stages of residual blocks),
    it builds the upstream network unchanged, then adds one unit after each
    chosen block, as in `Graph-Based Global Reasoning Networks
    <https://arxiv.org/abs/1811.12814>`_.

    Design:

    - *Keys.* Each unit is a child of its block, named ``glore``
      (``layer3.1.glore``), and is applied to the block's output by a
      forward hook. The upstream modules and their state-dict keys are
      untouched, so a checkpoint of the plain backbone loads with only the
      units' keys missing, and mmpretrain's layer-wise learning rates,
      ``frozen_stages`` and ``norm_eval`` treat a unit as part of its
      block.
    - *Identity at start.* :meth:`init_weights` runs the upstream
      initialisation with the units detached from the network, so neither
      its ``init_cfg`` (mmpretrain's ResNet sets every ``_BatchNorm`` weight
      to 1, which would switch on the unit's zero gate, and never reaches
      the units again: its ``ResLayer`` is a plain ``nn.Sequential``), nor
      its own loops (mmaction's ResNet3d sets every BN weight to 1), nor a
      ``Pretrained`` checkpoint reach them; then it resets every unit with
      the unit's own ``init_weights``. Each unit is therefore exactly the
      identity when training starts.
    - *Checkpoints that contain units* (a trained GloRe model) are loaded
      after initialisation: with the runner's ``load_from`` (or
      ``--resume``), or with ``init_cfg=dict(type='Pretrained', ...)`` on
      the whole model (e.g. mmpretrain's ``ImageClassifier``), which mmengine
      applies after its children's ``init_weights``. A ``Pretrained``
      ``init_cfg`` of the backbone itself is meant for plain checkpoints:
      the units' keys in it are reported as unexpected and not loaded.

    Adding a backbone is a subclass in the library's room, e.g. for
    mmaction::

        @MODELS.register_module()
        class GloReResNet3d(GloReInsertionMixin, ResNet3d):  # I3D
            glore_unit_dims = (3, )
            default_glore_type = 'GloRe3d'

    ``init_weights`` passes its arguments through (ResNet3d takes
    ``pretrained``). Backbones whose blocks do not see the unit's layout
    turn :attr:`glore_hooks_blocks` off and apply the units in their
    forward: mmaction's C2D runs its blocks on
    ``[N*T, C, H, W]``, and ``glore_mm.mmaction``'s ``GloReC2D`` folds that
    back into ``[N, C, T, H, W]`` for a GloRe3d over the clip.

    Args:
        glore_units (str | dict): Where units go: a dict mapping residual
            layer names (``'layer1'``...) to 0-based block indices after
            which a unit goes (negative indices count from the end), e.g.
            ``dict(layer3=[0, 2, 4])``; or a preset of
            :data:`GLORE_PRESETS`, resolved by the backbone's ``depth`` (see
            :func:`resolve_preset`). Defaults to ``'paper'``.
        glore_cfg (dict, optional): Config of each unit, without
            ``in_channels`` (the block's output channels). ``type`` defaults
            to :attr:`default_glore_type`; ``norm_cfg`` defaults to the
            backbone's ``norm_cfg`` (e.g. SyncBN) as the unit's gate:
            ``eps=1e-4``, always trainable, in 3-D for a 3-D unit
            (:func:`~glore_mm.models.layers.glore.gate_norm_cfg`). Defaults
            to None.
        *args, **kwargs: Arguments of the upstream backbone.
    """

    #: Spatial dimensions of the units the blocks take: (2, ) for blocks
    #: that output [N, C, H, W].
    glore_unit_dims: Tuple[int, ...] = (2, )
    #: Unit type used when ``glore_cfg`` names none.
    default_glore_type: str = 'GloRe2d'
    #: Whether each unit is applied to its block's output by a forward hook
    #: on the block, registered with the unit. Off where the backbone's
    #: forward applies the units itself.
    glore_hooks_blocks: bool = True

    def __init__(self,
                 *args,
                 glore_units: GloReUnits = 'paper',
                 glore_cfg: Optional[Dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        for key in kwargs:
            if key.startswith('glore'):
                raise TypeError(f'{name} got an unknown key {key!r}; allowed '
                                f"GloRe keys: 'glore_units', 'glore_cfg'")
        unit_cls, unit_cfg = self._check_glore_cfg(glore_cfg)
        try:
            super().__init__(*args, **kwargs)
        except TypeError as err:
            if 'unexpected keyword argument' not in str(err):
                raise
            plain = self.plain_class()
            raise TypeError(
                f'{name}: {err}; allowed: glore_units, glore_cfg and the '
                f'arguments of {plain.__name__}: {_init_args(plain)}') from err
        self.glore_units = self._resolve_glore_units(glore_units)
        self.glore_cfg = unit_cfg
        for block in self.glore_blocks():
            self._insert_unit(block, unit_cls, unit_cfg)
        # The upstream __init__ froze its stages before the units existed.
        if callable(getattr(self, '_freeze_stages', None)):
            self._freeze_stages()

    #: The arguments that only the units take, dropped with them (see
    #: :meth:`plain_class`).
    glore_keys = ('glore_units', 'glore_cfg')

    @classmethod
    def plain_class(cls) -> type:
        """The upstream backbone class, e.g. ``ResNet`` for GloReResNet.

        Without :attr:`glore_keys` in its config, it builds the backbone
        without units (``tools/analysis_tools/get_flops.py`` compares the
        two).
        """
        return next(
            klass for klass in cls.__mro__
            if not issubclass(klass, GloReInsertionMixin))

    def _check_glore_cfg(self, glore_cfg: Optional[Dict]) -> Tuple[type, Dict]:
        """Resolve the unit class and check the unit config's keys."""
        name = type(self).__name__
        if glore_cfg is None:
            glore_cfg = {}
        if not isinstance(glore_cfg, dict):
            raise TypeError(f'{name}: glore_cfg must be a dict or None, but '
                            f'got {glore_cfg!r}')
        cfg = {'type': self.default_glore_type, **glore_cfg}
        if 'in_channels' in cfg:
            raise ValueError(
                f'{name}: glore_cfg must not set in_channels (got '
                f"{cfg['in_channels']!r}); it is filled in with each block's "
                f'output channels')
        allowed_dims = self.glore_unit_dims
        allowed_types = _unit_types(allowed_dims)
        unit_type = cfg.pop('type')
        if isinstance(unit_type, str):
            with MODELS.switch_scope_and_registry(None) as registry:
                unit_cls = registry.get(unit_type)
            if unit_cls is None:
                raise ValueError(
                    f"{name}: glore_cfg['type']={unit_type!r} is not a "
                    f'registered model; allowed: {allowed_types}')
        else:
            unit_cls = unit_type
        dims = getattr(unit_cls, 'spatial_dims', None)
        if dims is not None and dims not in allowed_dims:
            maps = ' or '.join(f'{d}-D' for d in allowed_dims)
            raise ValueError(
                f"{name}: glore_cfg['type']={unit_cls.__name__!r} is a "
                f'{dims}-D unit, but the residual blocks of {name} output '
                f'{maps} maps; allowed: {allowed_types}')
        params = inspect.signature(unit_cls).parameters.values()
        # GloRe units refuse unknown keys themselves; check them here, before
        # the backbone is built
        if issubclass(unit_cls, GloReNd) or all(p.kind != p.VAR_KEYWORD
                                                for p in params):
            accepted = [
                p.name for p in params
                if p.name != 'in_channels' and p.kind != p.VAR_KEYWORD
            ]
            unknown = sorted(set(cfg) - set(accepted))
            if unknown:
                raise TypeError(
                    f'{name}: glore_cfg has unknown keys {unknown} for '
                    f'{unit_cls.__name__}; allowed: {accepted}')
        return unit_cls, cfg

    def _resolve_glore_units(self, glore_units: GloReUnits) -> Placement:
        """Check ``glore_units`` against the layers; indices 0-based."""
        name = type(self).__name__
        layer_sizes = self._residual_layer_sizes()
        if isinstance(glore_units, str):
            preset = glore_units
            glore_units = resolve_preset(preset, getattr(self, 'depth', None))
            source = (f'glore_units={preset!r} ({name} resolves it to '
                      f'{glore_units})')
        elif isinstance(glore_units, dict):
            source = 'glore_units'
        else:
            raise TypeError(
                f'{name}: glore_units must be a preset name or a dict of '
                f'block indices per layer, but got {glore_units!r}; allowed '
                f'presets: {list(GLORE_PRESETS)}')
        return check_placement(glore_units, layer_sizes, source)

    def _residual_layer_sizes(self) -> Dict[str, int]:
        """Number of blocks of each residual layer, by module name."""
        names = getattr(self, 'res_layers', None)
        if not (isinstance(names, (list, tuple)) and names and all(
                isinstance(getattr(self, n, None), nn.Sequential)
                for n in names)):
            raise ValueError(
                f'{type(self).__name__}: cannot place GloRe units in '
                f'{self.plain_class().__name__}, whose layout is '
                f'unknown: its res_layers is {names!r}; allowed: backbones '
                f'with ResNet\'s layout, where res_layers names the '
                f'nn.Sequential stages of residual blocks (mmpretrain/mmseg '
                f'ResNet, mmaction ResNet3d and C2D)')
        return {name: len(getattr(self, name)) for name in names}

    def glore_block_channels(self, block: nn.Module) -> int:
        """Output channels of a residual block, i.e. its unit's width.

        Read from ``out_channels`` (mmpretrain), else ``planes * expansion``
        (mmseg/mmaction Bottleneck, mmaction 3D blocks), else the last
        convolution outside ``downsample`` (mmseg's BasicBlock). Override it
        for blocks that have none of these.
        """
        out_channels = getattr(block, 'out_channels', None)
        if isinstance(out_channels, int):
            return out_channels
        planes = getattr(block, 'planes', None)
        expansion = getattr(block, 'expansion', None)
        if isinstance(planes, int) and isinstance(expansion, int):
            return planes * expansion
        convs = [
            m for name, m in block.named_modules()
            if isinstance(m, _ConvNd) and not name.startswith('downsample')
        ]
        if not convs:
            raise ValueError(
                f'{type(self).__name__}: cannot tell the output channels of '
                f'{type(block).__name__}; override glore_block_channels')
        return convs[-1].out_channels

    def _insert_unit(self, block: nn.Module, unit_cls: type,
                     unit_cfg: Dict) -> None:
        """Build a unit for ``block`` and add it as its child.

        With :attr:`glore_hooks_blocks` on, a forward hook on ``block`` then
        applies the unit to the block's output.
        """
        if hasattr(block, UNIT_NAME):
            raise ValueError(f'{type(block).__name__} already has an '
                             f'attribute {UNIT_NAME!r}')
        cfg = dict(unit_cfg)
        norm_cfg = getattr(self, 'norm_cfg', None)
        if 'norm_cfg' not in cfg and isinstance(norm_cfg, dict):
            # The backbone's norm type (SyncBN, GN), always trainable.
            cfg['norm_cfg'] = gate_norm_cfg(
                getattr(unit_cls, 'spatial_dims', None), norm_cfg)
        unit = unit_cls(in_channels=self.glore_block_channels(block), **cfg)
        block.add_module(UNIT_NAME, unit)
        if self.glore_hooks_blocks:
            block.register_forward_hook(_apply_unit)

    def _glore_sites(self) -> Iterator[Tuple[str, nn.Module]]:
        """Yield ``('layer3.1', block)`` for every block with a unit."""
        for layer, indices in self.glore_units.items():
            for index in indices:
                yield f'{layer}.{index}', getattr(self, layer)[index]

    def glore_blocks(self) -> List[nn.Module]:
        """The residual blocks that have a unit, in forward order."""
        return [block for _, block in self._glore_sites()]

    def named_glore_units(self) -> Iterator[Tuple[str, nn.Module]]:
        """Yield ``('layer3.1.glore', unit)`` for every unit."""
        for site, block in self._glore_sites():
            yield f'{site}.{UNIT_NAME}', getattr(block, UNIT_NAME)

    @contextmanager
    def _glore_units_detached(self) -> Iterator[None]:
        """Take the units out of the network for the duration."""
        blocks = self.glore_blocks()
        units = [getattr(block, UNIT_NAME) for block in blocks]
        for block in blocks:
            delattr(block, UNIT_NAME)
        try:
            yield
        finally:
            for block, unit in zip(blocks, units):
                block.add_module(UNIT_NAME, unit)

    def init_weights(self, *args, **kwargs) -> None:
        """Initialise as upstream, then make every unit the identity.

        The upstream ``init_weights`` (with its ``init_cfg``, ``Pretrained``
        loading included) runs with the units detached; each unit is then
        reset by its own ``init_weights``, which zeroes its gate.
        """
        with self._glore_units_detached():
            super().init_weights(*args, **kwargs)
        for _, unit in self.named_glore_units():
            unit.init_weights()

    def extra_repr(self) -> str:
        return f'glore_units={self.glore_units}'
