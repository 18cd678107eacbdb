# Copyright (c) glore_mm contributors. All rights reserved.
"""Where GloRe meets mmdetection: ResNet and ResNeXt with GloRe units.

Configs name this module in ``custom_imports``; importing it registers the
backbones in mmdet's ``MODELS`` and the hooks of :mod:`glore_mm.engine`
that the configs' runtime names. ``GloRe2d`` itself, for mmdet's
``plugins=``, is registered by ``import glore_mm``.
"""
import glore_mm.engine  # noqa: F401
from .backbones import GloReResNet, GloReResNeXt

__all__ = ['GloReResNet', 'GloReResNeXt']
