# Copyright (c) glore_mm contributors. All rights reserved.
"""Where GloRe meets mmsegmentation: the GloRe head and the datasets.

Configs name this module in ``custom_imports``; importing it registers the
classes in mmseg's registries.
"""
from .datasets import *  # noqa: F401,F403
from .glore_head import GloReHead

__all__ = ['GloReHead']
