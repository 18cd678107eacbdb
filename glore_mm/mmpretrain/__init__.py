# Copyright (c) glore_mm contributors. All rights reserved.
"""Where GloRe meets mmpretrain: ResNet with GloRe units.

Configs name this module in ``custom_imports``; importing it registers the
classes in mmpretrain's ``MODELS``.
"""
from .backbones import GloReResNet, GloReResNet_CIFAR

__all__ = ['GloReResNet', 'GloReResNet_CIFAR']
