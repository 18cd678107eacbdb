# Copyright (c) glore_mm contributors. All rights reserved.
import inspect
from typing import List, Optional, Tuple

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.fcn_head import FCNHead
from mmseg.registry import MODELS
from torch import Tensor

from glore_mm.models.layers import GloRe2d
from glore_mm.models.layers.glore import gate_norm_cfg


def _allowed_keys() -> List[str]:
    keys = set()
    for cls in (FCNHead, BaseDecodeHead):
        keys.update(
            p for p in inspect.signature(cls.__init__).parameters
            if p not in ('self', 'kwargs'))
    return sorted(keys | {'num_state', 'num_node', 'normalize'})


@MODELS.register_module()
class GloReHead(FCNHead):
    """FCN head with a Global Reasoning unit between its two convs.

    The head of `Graph-Based Global Reasoning Networks
    <https://arxiv.org/abs/1811.12814>`_ for segmentation, in the shape of
    mmseg's NLHead and GCHead: conv, GloRe unit, conv, optional concat with
    the input, classifier.

    Args:
        num_state (int, optional): States of each graph node. Defaults to
            None, which means ``channels // 2``.
        num_node (int, optional): Number of graph nodes. Defaults to None,
            which means ``channels // 4``.
        normalize (bool): Average node features over positions instead of
            summing them. Defaults to True: the head is trained on crops and
            evaluated on whole images (512x1024 crops, 1024x2048 images give
            4x the positions), and without the 1/L scaling the unit's output
            would grow with the image area at inference.
        num_convs (int): Must be 2; accepted so that configs inheriting an
            FCNHead's settings work unchanged. Defaults to 2.
        **kwargs: Arguments of :class:`FCNHead` (``in_channels``,
            ``channels``, ``num_classes``, ``concat_input``, ``norm_cfg``...).
    """

    #: The arguments that only the unit takes, dropped with it (see
    #: :meth:`plain_class`).
    glore_keys = ('num_state', 'num_node', 'normalize')

    @classmethod
    def plain_class(cls) -> type:
        """mmseg's ``FCNHead``: this head without its unit (two convs,
        optional concat, classifier), given a config without
        :attr:`glore_keys` (``tools/analysis_tools/get_flops.py`` compares
        the two)."""
        return FCNHead

    def __init__(self,
                 num_state: Optional[int] = None,
                 num_node: Optional[int] = None,
                 normalize: bool = True,
                 num_convs: int = 2,
                 **kwargs) -> None:
        unknown = sorted(set(kwargs) - set(_allowed_keys()))
        if unknown:
            raise TypeError(
                f'GloReHead got unknown argument(s) {unknown}; allowed: '
                f'{_allowed_keys()}')
        if num_convs != 2:
            raise ValueError(
                f'GloReHead has exactly two convs around its GloRe unit, but '
                f'num_convs={num_convs} was given; leave it out or set 2')
        super().__init__(num_convs=2, **kwargs)
        self.glore = GloRe2d(
            self.channels,
            num_state=num_state,
            num_node=num_node,
            normalize=normalize,
            conv_cfg=self.conv_cfg,
            norm_cfg=gate_norm_cfg(2, self.norm_cfg))

    def _transform_inputs(self, inputs: List[Tensor]) -> Tensor:
        x = super()._transform_inputs(inputs)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'GloReHead: in_channels={self.in_channels} in the config, '
                f'but the backbone output it reads (in_index={self.in_index})'
                f' has {x.shape[1]} channels; set decode_head.in_channels='
                f'{x.shape[1]}')
        return x

    def forward(self, inputs: Tuple[Tensor]) -> Tensor:
        """Segmentation logits ``[N, num_classes, H, W]`` of ``inputs``."""
        x = self._transform_inputs(inputs)
        output = self.convs[0](x)
        output = self.glore(output)
        output = self.convs[1](output)
        if self.concat_input:
            output = self.conv_cat(torch.cat([x, output], dim=1))
        return self.cls_seg(output)
