# Copyright (c) glore_mm contributors. All rights reserved.
"""What the unit benchmark runs: the blocks, the sizes, their costs.

The blocks are built by :func:`build_blocks`, the sizes of a run by
:func:`make_cases`. Multiply-adds (:func:`count_macs`) and memory
(:func:`estimate_bytes`) are counted analytically; the GloRe units' counts
follow the unit's own cost rule,
:func:`~glore_mm.models.layers.glore_products.pair_macs` in the order
:func:`~glore_mm.models.layers.glore_products.nodes_first` picks.
"""
import math
from typing import Dict, List, NamedTuple, Tuple

import torch
import torch.nn as nn
from mmcv.cnn.bricks import NonLocal2d, NonLocal3d

from glore_mm.models.layers.glore import GloRe2d, GloRe3d
from glore_mm.models.layers.glore_products import nodes_first, pair_macs
from ..reference import LiteralGloRe

IMPLS = ('ours', 'literal', 'nonlocal')
BOTH = ('infer', 'train')
# the sweep shows training, where Non-local's L x L maps are kept
TRAIN = ('train', )


def build_blocks(dims: int, channels: int,
                 device: str) -> Dict[str, nn.Module]:
    """Ours, the literal unit with ours' weights, and Non-local.

    2D units normalise (as in the segmentation head), 3D ones do not (the
    paper's video networks). Every gate is opened (random), so no block
    computes a trivial residual.

    Args:
        dims (int): 2 or 3 spatial dimensions.
        channels (int): Input channels of every block.
        device (str): Where the blocks are.

    Returns:
        dict[str, nn.Module]: The blocks by the names of :data:`IMPLS`.
    """
    torch.manual_seed(0)
    unit = {2: GloRe2d, 3: GloRe3d}[dims](channels, normalize=dims == 2)
    nonlocal_block = {
        2: NonLocal2d,
        3: NonLocal3d
    }[dims](
        channels,
        reduction=2,
        use_scale=True,
        norm_cfg=dict(type='BN' if dims == 2 else 'BN3d'),
        mode='embedded_gaussian')
    with torch.no_grad():
        for norm in (unit.norm, nonlocal_block.conv_out.norm):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.1)
    unit = unit.to(device)
    return {
        'ours': unit,
        'literal': LiteralGloRe.from_unit(unit),
        'nonlocal': nonlocal_block.to(device)
    }


class Case(NamedTuple):
    """One input size: ``[n, channels, *spatial]``, and what runs at it."""
    name: str
    dims: int
    n: int
    channels: int
    spatial: Tuple[int, ...]
    modes: Tuple[str, ...]
    sweep: bool = False

    @property
    def length(self) -> int:
        return math.prod(self.spatial)

    @property
    def shape(self) -> Tuple[int, ...]:
        return (self.n, self.channels) + self.spatial

    @property
    def label(self) -> str:
        return 'x'.join(str(s) for s in self.shape)


def make_cases(quick: bool, sweep_channels: int) -> List[Case]:
    """The sizes of a run: the FCN head, whole images, a sweep, video.

    Args:
        quick (bool): Tiny sizes that check that the tool works.
        sweep_channels (int): Channels of the sweep over the number of
            positions (full sizes only).

    Returns:
        list[Case]: In the order they run.
    """
    if quick:
        sweep = [(8, 8), (16, 16), (16, 32), (32, 32)]
        return [
            Case('head', 2, 2, 32, (8, 16), BOTH),
            Case('whole', 2, 1, 32, (16, 32), ('infer', )),
        ] + [Case('sweep', 2, 1, 16, hw, TRAIN, sweep=True)
             for hw in sweep] + [Case('video', 3, 2, 32, (2, 4, 4), BOTH)]
    # 1k to 32k positions
    sweep = [(32, 32), (32, 64), (64, 64), (64, 128), (128, 128), (128, 256)]
    return [
        # FCN head at Cityscapes training crops: 512x1024 at 1/8
        Case('head 512x1024 crop', 2, 2, 512, (64, 128), BOTH),
        # whole-image inference, 1024x2048 at 1/8
        Case('whole 1024x2048', 2, 1, 512, (128, 256), ('infer', )),
    ] + [
        Case('sweep', 2, 1, sweep_channels, hw, TRAIN, sweep=True)
        for hw in sweep
    ] + [
        # video res4: 1024 channels, 8 frames -> 4, 224 -> 14; 8 clips
        Case('video res4', 3, 8, 1024, (4, 14, 14), BOTH),
    ]


def count_macs(block: str, case: Case) -> int:
    """Multiply-adds of one forward (all images), matrix products only.

    The GloRe units (states S = C/2, nodes K = C/4, as built by
    :func:`build_blocks`) compute the projection B (C x K x L), two
    pairs of a 1x1 conv beside a product with B
    (:func:`~glore_mm.models.layers.glore_products.pair_macs`: the literal
    unit in the paper's order, ours in the order the unit takes) and the
    graph convolution over the nodes. A training forward+backward does
    three times as many: each product's backward computes the gradients
    of both of its operands.

    Args:
        block (str): One of :data:`IMPLS`.
        case (Case): The size.

    Returns:
        int: The multiply-adds.

    Raises:
        KeyError: If ``block`` is not one of :data:`IMPLS`.
    """
    c, length = case.channels, case.length
    if block == 'nonlocal':
        inter = c // 2
        per_image = 4 * c * inter * length + 2 * inter * length * length
        return case.n * per_image
    if block not in IMPLS:
        raise KeyError(f'block {block!r} is not one of {list(IMPLS)}')
    s, k = c // 2, c // 4
    order = block == 'ours' and nodes_first(c, s, k, length)
    graph = k * k * s + s * s * k
    per_image = c * k * length + 2 * pair_macs(c, s, k, length, order) + graph
    return case.n * per_image


def estimate_bytes(block: str, case: Case, mode: str) -> int:
    """An upper estimate of a call's peak memory (fp32), to skip OOM runs.

    Non-local holds two (inference) or three (training) attention maps of
    L x L per image at its peak; the GloRe units hold a few [C, L] maps.

    Args:
        block (str): One of :data:`IMPLS`.
        case (Case): The size.
        mode (str): ``'infer'`` or ``'train'``.

    Returns:
        int: Bytes.
    """
    maps = case.n * case.channels * case.length
    if block == 'nonlocal':
        attention = case.n * case.length**2
        count = 2 * attention + 4 * maps if mode == 'infer' else \
            3 * attention + 8 * maps
    else:
        count = (4 if mode == 'infer' else 8) * maps
    return 4 * count
