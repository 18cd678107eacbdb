# Copyright (c) glore_mm contributors. All rights reserved.
"""Where GloRe meets mmaction: I3D and C2D with GloRe units.

Configs name this module in ``custom_imports``; importing it registers the
classes in mmaction's ``MODELS``.
"""
from .backbones import GloReC2D, GloReResNet3d

__all__ = ['GloReC2D', 'GloReResNet3d']
