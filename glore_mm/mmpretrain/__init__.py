# Copyright (c) glore_mm contributors. All rights reserved.
"""Where GloRe meets mmpretrain: ResNet with GloRe units.

Configs name this module in ``custom_imports``; importing it registers the
classes in mmpretrain's ``MODELS``, and the hooks our configs declare
(:mod:`glore_mm.engine`).
"""
import glore_mm.engine  # noqa: F401  (registers the hooks)
from .backbones import GloReResNet, GloReResNet_CIFAR

__all__ = ['GloReResNet', 'GloReResNet_CIFAR']
