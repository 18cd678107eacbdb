# Copyright (c) glore_mm contributors. All rights reserved.
from .checkpoint import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .fileio import (atomic_output, atomic_write, remove_partial_files,
                     save_figure)
from .logging import quiet_mmengine_logger

__all__ = [
    'allow_mmengine_checkpoints', 'atomic_output', 'atomic_write',
    'mmengine_checkpoint_globals', 'quiet_mmengine_logger',
    'remove_partial_files', 'save_figure'
]
