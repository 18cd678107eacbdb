# Copyright (c) glore_mm contributors. All rights reserved.
from .insertion import GLORE_PRESETS, GloReInsertionMixin
from .layers import GloRe2d, GloRe3d, GloReNd, GraphConv
from .utils import glore_units_of

__all__ = [
    'GloReNd', 'GloRe2d', 'GloRe3d', 'GraphConv', 'GloReInsertionMixin',
    'GLORE_PRESETS', 'glore_units_of'
]
