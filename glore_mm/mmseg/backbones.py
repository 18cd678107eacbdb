# Copyright (c) glore_mm contributors. All rights reserved.
from mmseg.models.backbones import ResNetV1c
from mmseg.registry import MODELS

from glore_mm.models.insertion import GloReInsertionMixin


@MODELS.register_module()
class GloReResNetV1c(GloReInsertionMixin, ResNetV1c):
    """mmseg's ResNetV1c with GloRe units after chosen residual blocks.

    Unlike mmseg's ``plugins=``, this works for BasicBlock nets too and
    places units after whole blocks, as in the paper. See
    :class:`~glore_mm.models.insertion.GloReInsertionMixin` for
    ``glore_units`` and ``glore_cfg``; the other arguments are ResNetV1c's.

    Example:
        >>> backbone = dict(type='GloReResNetV1c', depth=50,
        ...                 glore_units=dict(layer3=[0, 2, 4]),
        ...                 glore_cfg=dict(normalize=True))
    """
