# Copyright (c) glore_mm contributors. All rights reserved.
"""Finding the GloRe units of a model."""
from typing import Dict

import torch.nn as nn

from .layers.glore import GloReNd


def glore_units_of(model: nn.Module) -> Dict[str, GloReNd]:
    """Every GloRe unit of ``model`` (any :class:`GloReNd`), by module name.

    Units inserted by a backbone (``backbone.layer3.0.glore``), inside a
    head (``decode_head.glore``) or as mmcv plugins are all found, in the
    order of ``model.named_modules()``.

    Args:
        model (nn.Module): Any model.

    Returns:
        dict[str, GloReNd]: Module name to unit; empty if there is none.
    """
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, GloReNd)
    }
