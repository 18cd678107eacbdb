# Copyright (c) glore_mm contributors. All rights reserved.
"""Where GloRe meets mmaction: I3D and C2D with GloRe units.

Configs name this module in ``custom_imports``; importing it registers the
classes in mmaction's ``MODELS``, and the hooks our configs declare
(:mod:`glore_mm.engine`).
"""
import glore_mm.engine  # noqa: F401  (registers the hooks)
from .backbones import GloReC2D, GloReResNet3d

__all__ = ['GloReC2D', 'GloReResNet3d']
