# Copyright (c) glore_mm contributors. All rights reserved.
from .glore import GloRe2d, GloRe3d, GraphConv

__all__ = ['GloRe2d', 'GloRe3d', 'GraphConv']
