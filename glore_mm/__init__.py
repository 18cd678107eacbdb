# Copyright (c) glore_mm contributors. All rights reserved.
"""Global Reasoning (GloRe) units for OpenMMLab 2.x.

Importing this package registers ``GloRe2d`` and ``GloRe3d`` in MMEngine's
root ``MODELS`` registry, where every downstream scope and mmcv's
``build_plugin_layer`` find them. It also lets ``torch.load``'s default
``weights_only`` unpickler read MMEngine checkpoints (see
:func:`glore_mm.utils.allow_mmengine_checkpoints`), so ``--resume`` and
``load_from`` work for every config that imports glore_mm. And it silences
the known-harmless warnings of the upstream stack, by name
(:mod:`glore_mm.upstream_warnings`).
"""
# before the stack is imported: its import-time warnings are among them
from .upstream_warnings import silence_known_upstream_warnings

silence_known_upstream_warnings()

from .models import GloRe2d, GloRe3d  # noqa: E402
from .utils import allow_mmengine_checkpoints  # noqa: E402
from .version import __version__  # noqa: E402

allow_mmengine_checkpoints()

__all__ = ['GloRe2d', 'GloRe3d', '__version__']
