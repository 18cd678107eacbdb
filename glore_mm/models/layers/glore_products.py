# Copyright (c) glore_mm contributors. All rights reserved.
"""The GloRe unit's matrix products, taken in the cheaper order.

With plain 1x1 convs, the unit is a chain of matrix products per image. For
features ``x`` [C, L] (L positions), the projection ``B = W_p x + b_p``
[K, L] (K nodes), the state conv ``W_s`` [S, C] with bias ``b_s``, the
extension conv ``W_e`` [C, S] and the reasoned nodes ``V'`` [S, K]:

- literal order, as the paper writes it::

      V = (W_s x + b_s) B^T          Y = W_e (V' B)

- reassociated order: ``x`` is pooled onto the nodes before ``conv_state``
  acts on it, and ``conv_extend`` acts on the reasoned nodes before they are
  spread back over the positions::

      V = W_s (x B^T) + b_s (B 1)^T  Y = (W_e V') B

  The bias of ``conv_state``, added at every position, sums over the
  positions into ``b_s (B 1)^T``: the bias times each node's total
  projection weight ``B 1`` [K].

Each pair of products costs, in multiply-adds per image, L·S·(C + K) in the
literal order and C·K·(L + S) in the reassociated one (for ``conv_state``:
S x C x L, then S x L x K; or C x L x K, then S x C x K; for
``conv_extend`` likewise): :func:`pair_macs`. :func:`nodes_first` picks the
cheaper; :func:`nodes_first_threshold` says from how many positions on the
reassociated order wins. With the paper's S = C/2, K = C/4 the nodes win
once L > C/3: all but the smallest inputs. Then three products run over
the positions (B, x B^T, (W_e V') B), each of C x K x L, where the literal
order has five with twice the multiply-adds.

The gate follows ``conv_extend``. A BN gate in eval mode is a per-channel
affine map ``scale · y + shift`` (``scale = γ / sqrt(var + eps)``,
``shift = β - mean · scale``), so :func:`fold_bn` folds it into the
extension: ``W_e <- scale · W_e``, ``b <- shift + scale · b``. In training
the BN needs the batch statistics of the extended features and runs on them
as a module.

With nothing left between the last product and the residual add, the input
``x`` is that product's input: ``baddbmm(x, W_e V', B)`` adds the residual
without a separate pass. Under autocast the product runs in a lower
precision than ``x``; then the residual is added afterwards, out of place
(:func:`spread_onto_positions`, :func:`add_residual`), so the residual path
is never rounded.

Convs other than torch's plain 1x1 convs (:func:`is_pointwise`) and norms
other than BN (:func:`is_batch_norm`) run as modules, in the literal order.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm


def is_pointwise(conv: nn.Module) -> bool:
    """Whether ``conv`` is torch's plain 1x1 conv, a linear map of channels.

    Only then may the unit apply its weight in another order than the
    module would. Other convs (deformable, weight-standardised, strided...)
    run as modules.
    """
    return (type(conv) in (nn.Conv2d, nn.Conv3d)
            and all(k == 1 for k in conv.kernel_size)
            and all(s == 1 for s in conv.stride)
            and (isinstance(conv.padding, str) or not any(conv.padding))
            and conv.groups == 1)


def is_batch_norm(norm: nn.Module) -> bool:
    """Whether ``norm`` computes BN, a per-channel affine map in eval mode."""
    bn_forwards = (_BatchNorm.forward, nn.SyncBatchNorm.forward)
    return isinstance(norm, _BatchNorm) and type(norm).forward in bn_forwards


def pair_macs(channels: int, num_state: int, num_node: int, length: int,
              nodes_first_order: bool) -> int:
    """Multiply-adds per image of a 1x1 conv beside a product with B.

    The conv maps ``channels`` (C) to or from ``num_state`` (S) channels;
    the projection B has ``num_node`` (K) rows and ``length`` (L)
    positions. The literal order (conv on the positions, then B) costs
    L·S·(C + K), the reassociated one (B first, then the conv on the nodes)
    C·K·(L + S). The unit takes two such pairs: ``conv_state`` with the
    pooling onto the nodes and ``conv_extend`` with the spreading back.

    Args:
        channels (int): Channels C of the unit's input.
        num_state (int): Channels S of a node's state.
        num_node (int): Number of nodes K.
        length (int): Number of positions L.
        nodes_first_order (bool): The reassociated order (True) or the
            literal one (False).

    Returns:
        int: The multiply-adds.
    """
    if nodes_first_order:
        return channels * num_node * (length + num_state)
    return length * num_state * (channels + num_node)


def nodes_first(channels: int, num_state: int, num_node: int,
                length: int) -> bool:
    """Whether a 1x1 conv beside a product with B costs less on the nodes.

    Compares the two orders of :func:`pair_macs`. With the default S = C/2,
    K = C/4 the nodes win once L > C/3.

    Args:
        channels (int): Channels C of the unit's input.
        num_state (int): Channels S of a node's state.
        num_node (int): Number of nodes K.
        length (int): Number of positions L.

    Returns:
        bool: True for the reassociated order, False for the literal one.
    """
    return (pair_macs(channels, num_state, num_node, length, True)
            <= pair_macs(channels, num_state, num_node, length, False))


def nodes_first_threshold(channels: int, num_state: int,
                          num_node: int) -> Optional[int]:
    """The fewest positions at which :func:`nodes_first` holds.

    C·K·(L + S) <= L·S·(C + K) is C·K·S <= L·(S·(C + K) - C·K): linear in
    L, so it holds from ``ceil(C·K·S / d)`` positions on, with
    ``d = S·(C + K) - C·K``, and for no L when ``d <= 0``.

    Args:
        channels (int): Channels C of the unit's input.
        num_state (int): Channels S of a node's state.
        num_node (int): Number of nodes K.

    Returns:
        int | None: The threshold (at least 1), or None if the literal
        order is never the costlier.
    """
    slope = num_state * (channels + num_node) - channels * num_node
    if slope <= 0:
        return None
    # ceil(C·K·S / slope) in integers
    return max(1, -(-channels * num_node * num_state // slope))


def mix_channels(weight: Tensor,
                 x: Tensor,
                 bias: Optional[Tensor] = None) -> Tensor:
    """A 1x1 conv's ``weight`` applied to ``x`` [N, C_in, M], plus ``bias``.

    ``bias`` is anything that broadcasts to the [N, C_out, M] result. One
    batched matrix product over a broadcast weight: no copy of ``x``.
    """
    # [N, C_out, C_in]
    weight = weight.flatten(1).expand(x.shape[0], -1, -1)
    if bias is None:
        return torch.bmm(weight, x)
    return torch.baddbmm(bias, weight, x)


def pointwise_conv(x: Tensor, weight: Tensor,
                   bias: Optional[Tensor]) -> Tensor:
    """A plain 1x1 conv on ``x`` [N, C_in, L], [N, C_out, L] out.

    Args:
        x (Tensor): Features ``[N, C_in, L]``.
        weight (Tensor): The conv's weight ``[C_out, C_in, 1...]``.
        bias (Tensor, optional): Its bias ``[C_out]``, added at every
            position.
    """
    # bias [C_out, 1]: broadcast over the positions
    column = None if bias is None else bias.unsqueeze(-1)
    return mix_channels(weight, x, column)


def pool_onto_nodes(x: Tensor, proj: Tensor, weight: Tensor,
                    bias: Optional[Tensor]) -> Tensor:
    """``(W·x + b) · B^T`` in the cheaper order, [N, num_state, num_node].

    Args:
        x (Tensor): Features ``[N, C, L]``.
        proj (Tensor): The projection B, ``[N, num_node, L]``.
        weight (Tensor): A 1x1 conv's weight ``[num_state, C, 1...]``.
        bias (Tensor, optional): Its bias ``[num_state]``.
    """
    proj_t = proj.transpose(1, 2)
    if not nodes_first(x.shape[1], weight.shape[0], proj.shape[1],
                       proj.shape[2]):
        return torch.bmm(pointwise_conv(x, weight, bias), proj_t)
    if bias is not None:
        # [N, num_state, num_node]: b · (B·1)^T, the bias times each node's
        # total projection weight
        bias = bias.unsqueeze(-1) * proj.sum(2).unsqueeze(1)
    # W · (x·B^T) + b · (B·1)^T; x·B^T: [N, C, num_node]
    return mix_channels(weight, torch.bmm(x, proj_t), bias)


def spread_onto_positions(nodes: Tensor, proj: Tensor, weight: Tensor,
                          bias: Optional[Tensor],
                          residual: Optional[Tensor]) -> Tensor:
    """``residual + W · (nodes·B) + b`` in the cheaper order, [N, C, L].

    ``residual`` is the matrix product's input (no separate pass for the
    add) unless autocast runs the product in a lower precision: then it is
    added afterwards, so the residual path is not rounded.

    Args:
        nodes (Tensor): Node features ``[N, num_state, num_node]``.
        proj (Tensor): The projection B, ``[N, num_node, L]``.
        weight (Tensor): A 1x1 conv's weight ``[C, num_state, 1...]``.
        bias (Tensor, optional): Its bias ``[C]``.
        residual (Tensor, optional): ``[N, C, L]`` to add, or None.
    """
    if nodes_first(weight.shape[0], weight.shape[1], proj.shape[1],
                   proj.shape[2]):
        # [N, C, num_node] @ [N, num_node, L]
        left, right = mix_channels(weight, nodes), proj
    else:
        # [N, C, num_state] @ [N, num_state, L]
        left = weight.flatten(1).expand(nodes.shape[0], -1, -1)
        right = torch.bmm(nodes, proj)
    if residual is None:
        out = torch.bmm(left, right)
    elif residual.dtype == right.dtype:
        out = torch.baddbmm(residual, left, right)
    else:
        out = residual + torch.bmm(left, right)
    if bias is not None:
        out = out.add_(bias.unsqueeze(-1))
    return out


def add_residual(x: Tensor, gated: Tensor) -> Tensor:
    """``x + gated``, written into ``gated``, the gate norm's new output.

    Out of place when autocast left ``gated`` in a lower precision than
    ``x``, so the residual path is not rounded.
    """
    if gated.dtype == x.dtype:
        return gated.add_(x)
    return x + gated


def fold_bn(weight: Tensor, bias: Optional[Tensor], mean: Tensor, var: Tensor,
            eps: float, bn_weight: Optional[Tensor],
            bn_bias: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
    """A 1x1 conv followed by an eval-mode BN, as one conv.

    Args:
        weight (Tensor): The conv's weight ``[C, C_in]``.
        bias (Tensor, optional): Its bias ``[C]``.
        mean (Tensor): The BN's running mean ``[C]``.
        var (Tensor): Its running variance ``[C]``.
        eps (float): Its eps.
        bn_weight (Tensor, optional): Its affine weight ``[C]``.
        bn_bias (Tensor, optional): Its affine bias ``[C]``.

    Returns:
        tuple[Tensor, Tensor]: Weight ``[C, C_in]`` and bias ``[C]`` of the
        conv that computes both.
    """
    scale = torch.rsqrt(var + eps)
    if bn_weight is not None:
        scale = scale * bn_weight
    shift = -mean * scale
    if bn_bias is not None:
        shift = shift + bn_bias
    weight = weight * scale.unsqueeze(-1)
    bias = shift if bias is None else torch.addcmul(shift, scale, bias)
    return weight, bias
