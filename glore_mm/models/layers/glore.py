# Copyright (c) glore_mm contributors. All rights reserved.
"""Global Reasoning (GloRe) units.

Chen et al., "Graph-Based Global Reasoning Networks", CVPR 2019,
https://arxiv.org/abs/1811.12814.
"""
import inspect
import math
import warnings
from typing import Any, Dict, List, Optional, Set, Tuple

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import constant_init, xavier_init
from mmengine.registry import MODELS
from torch import Tensor

from .glore_products import (add_residual, fold_bn, is_batch_norm,
                             is_pointwise, mix_channels, pointwise_conv,
                             pool_onto_nodes, spread_onto_positions)

#: Schemes ``conv_init`` accepts for the unit's convolutions.
CONV_INITS = ('xavier', 'pytorch')
#: The gate norm's eps: the authors' ``blocker`` is
#: ``BatchNormNd(num_in, eps=1e-04)`` (facebookresearch/GloRe,
#: ``network/global_reasoning_unit.py``, line 57).
GATE_NORM_EPS = 1e-4
# 2-D batch norms and their 3-D counterparts, for the gate of a 3-D unit
# that follows a 2-D network's norm (mmaction's C2D).
_NORMS_3D = {'BN': 'BN3d', 'BN2d': 'BN3d', 'BatchNorm2d': 'BN3d'}


def gate_norm_cfg(spatial_dims: int, like: Optional[Dict] = None) -> Dict:
    """The config of a unit's gate norm.

    Args:
        spatial_dims (int): The unit's spatial axes, 2 or 3.
        like (dict, optional): The norm config of the network the unit goes
            into (a backbone's or head's ``norm_cfg``: SyncBN, GN...), whose
            type and settings the gate takes; a 2-D BN becomes ``BN3d`` for
            a 3-D unit, ``requires_grad`` is dropped (a frozen gate would
            keep the unit the identity forever). Defaults to None: BN
            (``BN3d`` for 3-D units).

    Returns:
        dict: The norm config, with eps :data:`GATE_NORM_EPS`.
    """
    if like is None:
        like = dict(type='BN')
    cfg = {k: v for k, v in like.items() if k not in ('requires_grad', 'eps')}
    if spatial_dims == 3:
        cfg['type'] = _NORMS_3D.get(cfg['type'], cfg['type'])
    cfg['eps'] = GATE_NORM_EPS
    return cfg


def _check_input(x: Tensor, in_channels: int, layout: str, unit: str) -> None:
    """Raise if ``x`` is not a non-empty tensor of ``layout``."""
    ndim = len(layout.split(','))
    if x.dim() != ndim:
        raise ValueError(f'{unit} expects a {ndim}-D input [{layout}], but '
                         f'got a {x.dim()}-D tensor of shape {list(x.shape)}')
    if x.shape[1] != in_channels:
        raise ValueError(
            f'{unit} was built with in_channels={in_channels}, but the input '
            f'has {x.shape[1]} channels (shape {list(x.shape)})')
    if x.numel() == 0:
        raise ValueError(f'{unit} got an empty input of shape '
                         f'{list(x.shape)}; every size must be positive')


# Units and sizes already warned about by _warn_if_rank_deficient.
_RANK_WARNINGS: Set[Tuple[str, int, int, int]] = set()


def _warn_if_rank_deficient(x: Tensor, num_node: int, unit: str,
                            in_channels: int) -> None:
    """Warn once per unit and size when B has more nodes than positions.

    The projection B is [num_node, L]: with L < num_node its rank is at most
    L, so num_node - L nodes only repeat combinations of the others.
    """
    shape = list(x.shape)
    length = math.prod(shape[2:])
    key = (unit, in_channels, num_node, length)
    if length >= num_node or key in _RANK_WARNINGS:
        return
    _RANK_WARNINGS.add(key)
    ratio = length / in_channels
    warnings.warn(
        f'{unit}(in_channels={in_channels}, num_node={num_node}) got an '
        f'input with {length} positions {list(shape[2:])}, fewer than its '
        f'{num_node} nodes: the projection onto the nodes has rank at most '
        f'{length}, so {num_node - length} nodes are redundant. Pass '
        f'num_node <= {length} (or node_ratio <= {ratio:.3g}) for inputs of '
        f'this size',
        UserWarning,
        stacklevel=3)


# Leaves in torch.fx graphs, registered here, where the unit calls them: the
# checks run in traced modules too, instead of failing the trace on
# data-dependent control flow, and the products choose their order by shape
# and dtype at call time.
torch.fx.wrap('_check_input')
torch.fx.wrap('_warn_if_rank_deficient')
torch.fx.wrap('pool_onto_nodes')
torch.fx.wrap('spread_onto_positions')
torch.fx.wrap('add_residual')


def _check_layer_type(name: str, cfg: Dict, unit: str) -> None:
    """Raise a clear KeyError if ``cfg['type']`` is not a known layer."""
    layer_type = cfg['type']
    if isinstance(layer_type, type):
        return
    with MODELS.switch_scope_and_registry(None) as registry:
        found = registry.get(layer_type)
    if found is None:
        examples = ("'Conv2d', 'Conv3d', 'DCNv2'" if name == 'conv_cfg' else
                    "'BN', 'BN3d', 'SyncBN', 'GN', 'IN'")
        raise KeyError(
            f'{unit}: {name} type {layer_type!r} is not a layer registered in '
            f'MMEngine\'s MODELS (from the current scope); use a registered '
            f'one, e.g. {examples}')


def _resolve_size(name: str, value: Optional[int], ratio_name: str,
                  ratio: float, in_channels: int, unit: str) -> int:
    """Size given directly, or as ``ratio`` of ``in_channels``."""
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f'{unit}: {name} must be a positive int or None, '
                            f'but got {value!r}')
        if value <= 0:
            raise ValueError(
                f'{unit}: {name} must be positive, but got {value}')
        return value
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
        raise TypeError(f'{unit}: {ratio_name} must be a number in (0, 1], '
                        f'but got {ratio!r}')
    if not 0 < ratio <= 1:
        raise ValueError(
            f'{unit}: {ratio_name} must be in (0, 1], but got {ratio}')
    size = int(in_channels * ratio)
    if size < 1:
        raise ValueError(
            f'{unit}: {ratio_name}={ratio} of in_channels={in_channels} '
            f'leaves no {name.replace("num_", "")}s; pass {name} or a larger '
            'ratio')
    return size


def unit_arguments() -> List[str]:
    """The arguments a GloRe unit takes (:class:`GloReNd`'s)."""
    params = inspect.signature(GloReNd.__init__).parameters.values()
    return [
        p.name for p in params if p.name != 'self' and p.kind != p.VAR_KEYWORD
    ]


class GraphConv(nn.Module):
    """Graph convolution over a fully connected graph of nodes.

    Node features ``V`` of shape ``[N, num_state, num_node]`` are first mixed
    across nodes (the adjacency, a 1x1 conv over the node axis with bias) with
    a residual, then passed through ReLU, then mixed across states (a 1x1
    conv over the state axis without bias): ``W_s · ReLU(V + V · A^T)``.

    Args:
        num_state (int): Channels of a node's state.
        num_node (int): Number of graph nodes.
    """

    def __init__(self, num_state: int, num_node: int) -> None:
        super().__init__()
        self.num_state = num_state
        self.num_node = num_node
        # Conv1d(num_node, num_node) acts on [N, num_node, num_state]; the
        # forward applies its weight on the last axis instead of permuting.
        self.conv_node = nn.Conv1d(num_node, num_node, kernel_size=1)
        self.conv_state = nn.Conv1d(
            num_state, num_state, kernel_size=1, bias=False)

    def forward(self, nodes: Tensor) -> Tensor:
        """Reason over ``nodes`` ([N, num_state, num_node]), same shape out."""
        # node mixing: [N, num_state, num_node] @ A^T + b
        adjacency = self.conv_node.weight.squeeze(-1)
        hidden = nodes + F.linear(nodes, adjacency, self.conv_node.bias)
        hidden = F.relu(hidden)
        # state mixing: [num_state, num_state] @ [N, num_state, num_node]
        return mix_channels(self.conv_state.weight, hidden)


class GloReNd(nn.Module):
    """Global Reasoning unit, dimension-agnostic base of GloRe2d/GloRe3d.

    Proposed in `Graph-Based Global Reasoning Networks
    <https://arxiv.org/abs/1811.12814>`_ (CVPR 2019). Features are projected
    from coordinate space onto a few graph nodes by a learned projection B,
    a graph convolution reasons over the fully connected node graph, and the
    result is projected back with B, extended to the input width by a 1x1
    conv and a norm, and added to the input.

    The unit starts as the identity: its gate (the last norm, or the
    extension conv when ``with_norm=False``) is zero-initialised by
    :meth:`init_weights`, so it can be inserted into a pretrained network
    without changing its output.

    Args:
        in_channels (int): Channels of the input.
        num_state (int, optional): Channels of each node's state. Defaults to
            None, which means ``int(in_channels * state_ratio)``.
        num_node (int, optional): Number of graph nodes. Defaults to None,
            which means ``int(in_channels * node_ratio)``.
        state_ratio (float): ``num_state`` as a fraction of ``in_channels``
            when ``num_state`` is None. Defaults to 0.5 (the paper's C/2).
        node_ratio (float): ``num_node`` as a fraction of ``in_channels``
            when ``num_node`` is None. Defaults to 0.25 (the paper's C/4).
        normalize (bool): Scale node features by 1/L, L the number of
            positions, so they are a weighted mean instead of a sum. Turn it
            on when inference sees more positions than training (whole-image
            segmentation after crop training: without it the unit's output
            grows with the image area) and for large inputs under fp16, where
            the sum can overflow. Defaults to False, as in the paper.
        conv_cfg (dict, optional): Config of the 1x1 convolutions. Defaults
            to None, which means ``nn.Conv2d``/``nn.Conv3d``.
        norm_cfg (dict, optional): Config of the gate norm. Defaults to None,
            which means BN with eps 1e-4 as in the authors' code
            (:func:`gate_norm_cfg`).
        with_norm (bool): Whether the extension conv is followed by the gate
            norm. Defaults to True.
        zero_init (bool): Zero-initialise the gate so the unit starts as the
            identity. Defaults to True; turn it off only to study what it
            prevents.
        conv_init (str): How :meth:`init_weights` initialises the unit's
            convolutions: ``'xavier'``, the authors' scheme (Xavier-uniform
            weights with gain 1, zero biases), or ``'pytorch'``, each
            layer's own ``reset_parameters`` (Kaiming-uniform with
            ``a=sqrt(5)``, uniform biases), for studies. Defaults to
            ``'xavier'``.
        **unknown: Refused with the unit's name and the allowed arguments
            (a typo in a config).
    """

    _abbr_ = 'glore'
    __jit_unused_properties__ = ['gate']
    # set by subclasses: number of spatial axes, the input layout named in
    # errors, and the conv used when conv_cfg is None
    spatial_dims = 0
    layout = ''
    _default_conv: type = nn.Module
    # TorchScript constants: it compiles only the branches they select
    pointwise: torch.jit.Final[bool]
    bn_gate: torch.jit.Final[bool]

    def __init__(self,
                 in_channels: int,
                 num_state: Optional[int] = None,
                 num_node: Optional[int] = None,
                 state_ratio: float = 0.5,
                 node_ratio: float = 0.25,
                 normalize: bool = False,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = None,
                 with_norm: bool = True,
                 zero_init: bool = True,
                 conv_init: str = 'xavier',
                 **unknown: Any) -> None:
        super().__init__()
        unit = self.unit_name = type(self).__name__
        if unknown:
            # a typo in a config reaches here through MODELS.build or mmcv's
            # build_plugin_layer: name the unit and what it takes
            raise TypeError(
                f'{unit} got unknown argument(s) {sorted(unknown)}; allowed: '
                f'{unit_arguments()}')
        if isinstance(in_channels, bool) or not isinstance(in_channels, int):
            raise TypeError(
                f'{unit}: in_channels must be a positive int, but got '
                f'{in_channels!r}')
        if in_channels <= 0:
            raise ValueError(
                f'{unit}: in_channels must be positive, but got {in_channels}')
        for name, flag in (('normalize', normalize), ('with_norm', with_norm),
                           ('zero_init', zero_init)):
            if not isinstance(flag, bool):
                raise TypeError(
                    f'{unit}: {name} must be True or False, but got {flag!r}')
        if conv_init not in CONV_INITS:
            raise ValueError(f'{unit}: conv_init must be one of '
                             f'{list(CONV_INITS)}, but got {conv_init!r}')
        for name, cfg in (('conv_cfg', conv_cfg), ('norm_cfg', norm_cfg)):
            if cfg is not None and not (isinstance(cfg, dict)
                                        and 'type' in cfg):
                raise TypeError(
                    f'{unit}: {name} must be None or a dict with a "type" '
                    f'key, but got {cfg!r}')
        self.in_channels = in_channels
        # instance copy: TorchScript does not see class attributes
        self.layout = type(self).layout
        self.num_state = _resolve_size('num_state', num_state, 'state_ratio',
                                       state_ratio, in_channels, unit)
        self.num_node = _resolve_size('num_node', num_node, 'node_ratio',
                                      node_ratio, in_channels, unit)
        self.normalize = normalize
        self.with_norm = with_norm
        self.zero_init = zero_init
        self.conv_init = conv_init
        # torch's own conv class: mmcv's 'Conv3d' wrapper is not scriptable
        conv_cfg = conv_cfg or dict(type=self._default_conv)
        norm_cfg = norm_cfg or gate_norm_cfg(self.spatial_dims)
        _check_layer_type('conv_cfg', conv_cfg, unit)
        _check_layer_type('norm_cfg', norm_cfg, unit)

        # coordinate space -> node states and projection B
        self.conv_state = build_conv_layer(
            conv_cfg, in_channels, self.num_state, kernel_size=1)
        self.conv_proj = build_conv_layer(
            conv_cfg, in_channels, self.num_node, kernel_size=1)
        self.gcn = GraphConv(self.num_state, self.num_node)
        # node states back to coordinate space, extended to the input width
        self.conv_extend = build_conv_layer(
            conv_cfg, self.num_state, in_channels, kernel_size=1, bias=False)
        if with_norm:
            _, self.norm = build_norm_layer(norm_cfg, in_channels)
        else:
            self.norm = nn.Identity()
        # Plain 1x1 convs let the forward reassociate its matrix products;
        # a BN gate in eval mode folds into them (see glore_products).
        self.pointwise = all(
            is_pointwise(conv)
            for conv in (self.conv_state, self.conv_proj, self.conv_extend))
        self.bn_gate = is_batch_norm(self.norm)
        self.init_weights()

    @property
    def gate(self) -> nn.Module:
        """The last layer, zero at init so the unit starts as identity."""
        return self.norm if self.with_norm else self.conv_extend

    def init_weights(self) -> None:
        """Initialise as the authors do; the unit is then the identity.

        With ``conv_init='xavier'`` every convolution of the unit
        (``conv_state``, ``conv_proj``, the two graph convs, ``conv_extend``)
        gets Xavier-uniform weights (gain 1) and zero biases, and the gate
        norm weight 1 and bias 0: the authors' ``initializer.xavier``
        (facebookresearch/GloRe, ``network/initializer.py``, lines 16-23),
        which their networks apply to every layer
        (``network/resnet50_3d_gcn_x5.py``, line 169). Then the gate is
        zeroed (their ``blocker.weight``, same file, lines 182-186, after
        the pretrained weights were loaded; here the bias too, which their
        initialiser had set to 0 already).

        Whoever inserts units calls this again after the parent's own
        initialisation and pretrained loading, so neither reaches the units.
        """
        for conv in (self.conv_state, self.conv_proj, self.gcn.conv_node,
                     self.gcn.conv_state, self.conv_extend):
            if self.conv_init == 'xavier':
                xavier_init(conv, gain=1, bias=0, distribution='uniform')
            elif hasattr(conv, 'reset_parameters'):
                conv.reset_parameters()
        if self.with_norm and hasattr(self.norm, 'weight'):
            constant_init(self.norm, 1, bias=0)
        if self.zero_init:
            constant_init(self.gate, 0)

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, num_state={self.num_state}, '
                f'num_node={self.num_node}, normalize={self.normalize}, '
                f'conv_init={self.conv_init!r}')

    def forward(self, x: Tensor) -> Tensor:
        """Project onto the nodes, reason over them, re-project, add.

        With plain 1x1 convs the products are taken in the order that costs
        less for the input's size (:mod:`.glore_products`); the function is
        the paper's.

        Args:
            x (Tensor): ``[N, C, H, W]`` for GloRe2d or ``[N, C, T, H, W]``
                for GloRe3d, with ``C == in_channels``.

        Returns:
            Tensor: ``x`` plus the reasoned features, same shape as ``x``.
        """
        _check_input(x, self.in_channels, self.layout, self.unit_name)
        if not torch.jit.is_scripting():
            # eager runs only: traced, compiled and exported graphs carry no
            # warnings (and symbolic sizes cannot be recorded)
            if not (torch.jit.is_tracing() or torch.compiler.is_compiling()):
                _warn_if_rank_deficient(x, self.num_node, self.unit_name,
                                        self.in_channels)
        # project: B = conv_proj(x), [N, num_node, L]
        proj = self.projection_matrix(x)
        # V = conv_state(x) · B^T [/ L], [N, num_state, num_node]
        nodes = self.project_onto_nodes(x, proj)
        # reason: graph convolution, [N, num_state, num_node]
        nodes = self.gcn(nodes)
        # re-project: gate(conv_extend(V · B)), [N, C, L]; residual: x + it,
        # [N, C, *spatial] (x enters the last product, see glore_products)
        return self.reproject(nodes, proj, residual=x)

    def projection_matrix(self, x: Tensor) -> Tensor:
        """The projection ``B = conv_proj(x)``, [N, num_node, L]."""
        if not self.pointwise:
            return self.conv_proj(x).flatten(2)
        return pointwise_conv(
            x.flatten(2), self.conv_proj.weight, self.conv_proj.bias)

    def project_onto_nodes(self, x: Tensor, proj: Tensor) -> Tensor:
        """Nodes ``V = conv_state(x) · B^T``, [N, num_state, num_node].

        Divided by L, the number of positions, when ``normalize`` is on. The
        1/L factor is applied to B before the sum over positions, so a
        half-precision sum over many positions cannot overflow.
        """
        if self.normalize:
            proj = proj * (1.0 / proj.shape[2])
        if not self.pointwise:
            # [N, num_state, L] @ [N, L, num_node]
            states = self.conv_state(x).flatten(2)
            return torch.bmm(states, proj.transpose(1, 2))
        return pool_onto_nodes(
            x.flatten(2), proj, self.conv_state.weight, self.conv_state.bias)

    def reproject(self, nodes: Tensor, proj: Tensor,
                  residual: Tensor) -> Tensor:
        """``residual + gate(conv_extend(nodes · B))``, same shape.

        Back to coordinate space, extension to ``in_channels``, gate, and
        the unit's input ``residual`` added. A BN gate in eval mode is
        folded into the extension and ``residual`` is the last product's
        input; in training the BN needs the batch statistics of the extended
        features and runs on them.
        """
        if not self.pointwise:
            # [N, num_state, *spatial]
            states = torch.bmm(nodes, proj).unflatten(2, residual.shape[2:])
            gated = self.norm(self.conv_extend(states))
            return add_residual(residual, gated)
        # [C, num_state]
        weight = self.conv_extend.weight.flatten(1)
        bias = self.conv_extend.bias
        folded = self._fold_frozen_bn(weight, bias)
        if folded is not None:
            weight, bias = folded
        elif self.with_norm:
            extended = spread_onto_positions(nodes, proj, weight, bias, None)
            gated = self.norm(extended.view_as(residual))
            return add_residual(residual, gated)
        # [N, C, L] -> [N, C, *spatial]
        return spread_onto_positions(nodes, proj, weight, bias,
                                     residual.flatten(2)).view_as(residual)

    def _fold_frozen_bn(
            self, weight: Tensor,
            bias: Optional[Tensor]) -> Optional[Tuple[Tensor, Tensor]]:
        """The extension ``weight``, ``bias`` with a frozen BN gate folded in.

        None when the gate is no BN, is training, or keeps no running
        statistics.
        """
        # hasattr: after mmcv's fuse_conv_bn the BN is an nn.Identity
        if not (self.bn_gate and hasattr(self.norm, 'running_var')):
            return None
        mean = self.norm.running_mean
        var = self.norm.running_var
        if self.norm.training or mean is None or var is None:
            return None
        return fold_bn(weight, bias, mean, var, self.norm.eps,
                       self.norm.weight, self.norm.bias)


@MODELS.register_module()
class GloRe2d(GloReNd):
    """Global Reasoning unit for 2D feature maps ``[N, C, H, W]``.

    See :class:`GloReNd` for the arguments.
    """

    spatial_dims = 2
    layout = 'N, C, H, W'
    _default_conv = nn.Conv2d


@MODELS.register_module()
class GloRe3d(GloReNd):
    """Global Reasoning unit for video feature maps ``[N, C, T, H, W]``.

    Reasons over space-time: every position of every frame is projected
    onto the same nodes. See :class:`GloReNd` for the arguments.
    """

    spatial_dims = 3
    layout = 'N, C, T, H, W'
    _default_conv = nn.Conv3d
