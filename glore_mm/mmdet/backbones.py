# Copyright (c) glore_mm contributors. All rights reserved.
from mmdet.models.backbones import ResNet, ResNeXt
from mmdet.registry import MODELS

from glore_mm.models.insertion import GloReInsertionMixin


@MODELS.register_module()
class GloReResNet(GloReInsertionMixin, ResNet):
    """mmdet's ResNet with GloRe units after chosen residual blocks.

    Each unit follows a whole block (after its residual add), where the
    authors put theirs; mmdet's ``plugins=`` puts a module inside every
    bottleneck of a stage instead (docs/detection.md compares the two). Every
    depth works, BasicBlock nets (ResNet-18/34) included. See
    :class:`~glore_mm.models.insertion.GloReInsertionMixin` for
    ``glore_units`` and ``glore_cfg``; the other arguments are ResNet's. A
    backbone ``init_cfg=dict(type='Pretrained', ...)`` loads a plain
    ResNet checkpoint (torchvision's or open-mmlab's) with only the units'
    keys missing, and every unit starts as the identity.

    Registered in mmdet's ``MODELS``, apart from mmpretrain's
    ``GloReResNet``: a config's ``default_scope`` picks the library.

    Example:
        >>> backbone = dict(type='GloReResNet', depth=50,
        ...                 glore_units='res4x3',
        ...                 init_cfg=dict(type='Pretrained',
        ...                               checkpoint='torchvision://resnet50'))
    """


@MODELS.register_module()
class GloReResNeXt(GloReInsertionMixin, ResNeXt):
    """mmdet's ResNeXt with GloRe units after chosen residual blocks.

    ``glore_units`` and ``glore_cfg`` as in :class:`GloReResNet`; the other
    arguments are ResNeXt's (``groups``, ``base_width``).

    Example:
        >>> backbone = dict(type='GloReResNeXt', depth=101, groups=32,
        ...                 base_width=4, glore_units='paper')
    """
