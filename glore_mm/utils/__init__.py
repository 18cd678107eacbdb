# Copyright (c) glore_mm contributors. All rights reserved.
from .checkpoint import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .logging import quiet_mmengine_logger

__all__ = [
    'allow_mmengine_checkpoints', 'mmengine_checkpoint_globals',
    'quiet_mmengine_logger'
]
