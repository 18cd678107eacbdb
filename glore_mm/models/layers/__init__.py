# Copyright (c) glore_mm contributors. All rights reserved.
from .glore import GloRe2d, GloRe3d, GloReNd, GraphConv

__all__ = ['GloReNd', 'GloRe2d', 'GloRe3d', 'GraphConv']
