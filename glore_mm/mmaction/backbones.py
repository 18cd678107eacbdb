# Copyright (c) glore_mm contributors. All rights reserved.
from functools import partial
from typing import Tuple, Union

from mmaction.models.backbones import C2D, ResNet3d
from mmaction.registry import MODELS
from torch import Tensor, nn

from glore_mm.models.insertion import UNIT_NAME, GloReInsertionMixin


def _apply_unit_to_frames(block: nn.Module, args: Tuple, output: Tensor,
                          num_clips: int) -> Tensor:
    """Forward hook of a C2D block: its frames through its unit.

    A 3-D unit reasons over each clip: the block's output ``[N*T, C, H, W]``
    is folded into ``N = num_clips`` clips ``[N, C, T, H, W]`` and unfolded
    after. ``num_clips`` is a size of the backbone's input, so it stays a
    size of the graph when the backbone is traced. A 2-D unit reasons per
    frame.
    """
    unit = getattr(block, UNIT_NAME)
    if getattr(unit, 'spatial_dims', None) == 2:
        return unit(output)
    # [N, C, T, H, W]
    clips = output.reshape(num_clips, -1, *output.shape[1:]).transpose(1, 2)
    # [N*T, C, H, W], frames of a clip consecutive as C2D has them
    return unit(clips).transpose(1, 2).flatten(0, 1)


@MODELS.register_module()
class GloReResNet3d(GloReInsertionMixin, ResNet3d):
    """mmaction's ResNet3d (I3D) with GloRe3d units after chosen blocks.

    Its blocks output clips ``[N, C, T, H, W]``, so each unit reasons over
    space-time: one graph for all ``T x H x W`` positions of a clip. See
    :class:`~glore_mm.models.insertion.GloReInsertionMixin` for
    ``glore_units`` and ``glore_cfg``; the other arguments are ResNet3d's.
    ``'paper'`` places the authors' units: after their blocks 1 and 3 of
    res3 and 1, 3, 5 (ResNet-50) or 6, 12, 18 (ResNet-101) of res4, counted
    from 1, i.e. 0-based ``layer2.0``, ``layer2.2`` and ``layer3.0``,
    ``layer3.2``, ``layer3.4`` (``layer3.5``, ``layer3.11``,
    ``layer3.17``). The units (their Xavier-initialised convs and zero
    gates) survive ResNet3d's initialisation (every BN weight set to 1) and
    the inflation of 2-D ImageNet weights.

    Example:
        >>> backbone = dict(type='GloReResNet3d', depth=50,
        ...                 pretrained='torchvision://resnet50',
        ...                 glore_units='paper')
    """

    glore_unit_dims = (3, )
    default_glore_type = 'GloRe3d'


@MODELS.register_module()
class GloReC2D(GloReInsertionMixin, C2D):
    """mmaction's C2D with GloRe units over the clip after chosen blocks.

    C2D runs its residual blocks frame by frame, on ``[N*T, C, H, W]``. By
    default (``GloRe3d``, as the paper reports for C2D) a unit folds a
    block's output back into clips ``[N, C, T, H, W]`` and reasons over
    space-time, the only place where C2D mixes information across frames
    beyond its temporal pooling. ``glore_cfg=dict(type='GloRe2d')`` reasons
    per frame instead: one graph for each frame's ``H x W`` positions.

    See :class:`~glore_mm.models.insertion.GloReInsertionMixin` for
    ``glore_units`` and ``glore_cfg``; the other arguments are C2D's. A 3-D
    unit's gate norm is the 3-D version of the backbone's norm (``BN2d`` ->
    ``BN3d``) unless ``glore_cfg`` sets ``norm_cfg``.

    Example:
        >>> backbone = dict(type='GloReC2D', depth=50, glore_units='paper')
        >>> per_frame = dict(type='GloReC2D', depth=50, glore_units='paper',
        ...                  glore_cfg=dict(type='GloRe2d'))
    """

    # 3-D units over the clip, 2-D units per frame
    glore_unit_dims = (3, 2)
    default_glore_type = 'GloRe3d'
    # the forward applies the units: it knows the number of clips
    glore_hooks_blocks = False

    def forward(self, x: Tensor) -> Union[Tensor, Tuple[Tensor, ...]]:
        """Extract features of clips ``x`` [N, C, T, H, W].

        C2D's forward, with each unit applied to its block's output by a
        hook that lives for this call and knows the number of clips (as
        C2D's forward keeps it in a closure). The hooks run before any
        other forward hook of the blocks, so those see the units' output.

        Returns:
            Tensor | tuple[Tensor]: C2D's features, ``[N, C', T', H', W']``.
        """
        hook = partial(_apply_unit_to_frames, num_clips=x.shape[0])
        handles = [
            block.register_forward_hook(hook, prepend=True)
            for block in self.glore_blocks()
        ]
        try:
            return super().forward(x)
        finally:
            for handle in handles:
                handle.remove()
