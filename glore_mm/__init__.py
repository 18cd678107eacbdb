# Copyright (c) glore_mm contributors. All rights reserved.
"""Global Reasoning (GloRe) units for OpenMMLab 2.x.

Importing this package registers ``GloRe2d`` and ``GloRe3d`` in MMEngine's
root ``MODELS`` registry, where every downstream scope and mmcv's
``build_plugin_layer`` find them. It also lets ``torch.load``'s default
``weights_only`` unpickler read MMEngine checkpoints (see
:func:`glore_mm.utils.allow_mmengine_checkpoints`), so ``--resume`` and
``load_from`` work for every config that imports glore_mm.
"""
from .models import GloRe2d, GloRe3d
from .utils import allow_mmengine_checkpoints
from .version import __version__

allow_mmengine_checkpoints()

__all__ = ['GloRe2d', 'GloRe3d', '__version__']
