# Copyright (c) glore_mm contributors. All rights reserved.
from typing import Dict, Optional, Tuple

from mmaction.models.backbones import C2D, ResNet3d
from mmaction.registry import MODELS
from mmengine.registry import MODELS as ROOT_MODELS
from torch import Tensor, nn

from glore_mm.models.insertion import UNIT_NAME, GloReInsertionMixin

# 2-D batch norms and their 3-D counterparts, for 3-D units in C2D.
_NORMS_3D = {'BN': 'BN3d', 'BN2d': 'BN3d', 'BatchNorm2d': 'BN3d'}


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

    glore_spatial_dims = 3
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

    glore_spatial_dims = 3
    default_glore_type = 'GloRe3d'

    def _check_glore_cfg(self, glore_cfg: Optional[Dict]) -> Tuple[type, Dict]:
        """Accept 3-D units (over the clip) and 2-D units (per frame)."""
        unit_type = None
        if isinstance(glore_cfg, dict):
            unit_type = glore_cfg.get('type')
        if isinstance(unit_type, str):
            with ROOT_MODELS.switch_scope_and_registry(None) as registry:
                unit_type = registry.get(unit_type)
        if getattr(unit_type, 'spatial_dims', None) == 2:
            # an instance attribute: this backbone's blocks, per frame
            self.glore_spatial_dims = 2
        return super()._check_glore_cfg(glore_cfg)

    def glore_norm_cfg(self, unit_cls: type) -> Optional[Dict]:
        """The backbone's norm config, in 3-D for a 3-D unit."""
        norm_cfg = super().glore_norm_cfg(unit_cls)
        if self.glore_spatial_dims == 3 and isinstance(norm_cfg, dict):
            norm_type = norm_cfg.get('type')
            norm_type = _NORMS_3D.get(norm_type, norm_type)
            norm_cfg = {**norm_cfg, 'type': norm_type}
        return norm_cfg

    def glore_forward_hook(self, block: nn.Module, args: Tuple,
                           output: Tensor) -> Tensor:
        """A block's output ``[N*T, C, H, W]`` through its unit.

        A bound method: it reads the number of clips ``N`` that
        :meth:`forward` recorded (deep copies of the backbone bind their
        copies of the hook to themselves).
        """
        unit = getattr(block, UNIT_NAME)
        if self.glore_spatial_dims == 2:
            return unit(output)
        # [N, C, T, H, W]
        clips = output.unflatten(0, (self.glore_num_clips, -1)).transpose(1, 2)
        # [N*T, C, H, W], frames of a clip consecutive as C2D has them
        return unit(clips).transpose(1, 2).flatten(0, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Extract features of clips ``x`` [N, C, T, H, W].

        Returns:
            Tensor | tuple[Tensor]: C2D's features, ``[N, C', T', H', W']``.
        """
        #: Number of clips of the running forward, read by the units' hook.
        self.glore_num_clips = x.shape[0]
        return super().forward(x)
