# Copyright (c) glore_mm contributors. All rights reserved.
from mmpretrain.models.backbones import ResNet, ResNet_CIFAR
from mmpretrain.registry import MODELS

from glore_mm.models.insertion import GloReInsertionMixin


@MODELS.register_module()
class GloReResNet(GloReInsertionMixin, ResNet):
    """mmpretrain's ResNet with GloRe units after chosen residual blocks.

    Every depth works, BasicBlock nets (ResNet-18/34) included. See
    :class:`~glore_mm.models.insertion.GloReInsertionMixin` for
    ``glore_units`` and ``glore_cfg``; the other arguments are ResNet's.

    Example:
        >>> backbone = dict(type='GloReResNet', depth=50,
        ...                 glore_units=dict(layer2=[0, 2], layer3=[0, 2, 4]))
    """


@MODELS.register_module()
class GloReResNet_CIFAR(GloReInsertionMixin, ResNet_CIFAR):
    """mmpretrain's ResNet_CIFAR with GloRe units after chosen blocks.

    ResNet_CIFAR has a 3x3 stride-1 stem and no max-pool, suited to small
    inputs (32x32 CIFAR, 28x28 Fashion-MNIST): with ``strides`` (1, 2, 2, 2)
    a 28x28 image gives 28, 14, 7 and 4 pixel maps in ``layer1`` to
    ``layer4``. ``glore_units`` and ``glore_cfg`` as in
    :class:`GloReResNet`.

    Example:
        >>> backbone = dict(type='GloReResNet_CIFAR', depth=18,
        ...                 in_channels=1, glore_units='res4x1')
    """
