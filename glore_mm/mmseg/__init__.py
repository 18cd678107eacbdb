# Copyright (c) glore_mm contributors. All rights reserved.
"""Where GloRe meets mmsegmentation: the GloRe head, the ResNetV1c
with GloRe units and the datasets.

Configs name this module in ``custom_imports``; importing it registers the
classes in mmseg's registries, and the hooks our configs declare
(:mod:`glore_mm.engine`).
"""
import glore_mm.engine  # noqa: F401  (registers the hooks)
from .backbones import GloReResNetV1c
from .datasets import *  # noqa: F401,F403
from .glore_head import GloReHead

__all__ = ['GloReHead', 'GloReResNetV1c']
