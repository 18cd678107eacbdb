# Copyright (c) glore_mm contributors. All rights reserved.
from .checkpoint import (allow_mmengine_checkpoints, check_checkpoint_fits,
                         checkpoint_state_dict, load_model_checkpoint,
                         mmengine_checkpoint_globals, read_checkpoint)
from .cli import BAD_INPUT_ERRORS, refuse_bad_input
from .fileio import (atomic_output, atomic_write, remove_partial_files,
                     save_figure, write_png)
from .logging import quiet_mmengine_logger
from .recording import record_calls

__all__ = [
    'BAD_INPUT_ERRORS', 'allow_mmengine_checkpoints', 'atomic_output',
    'atomic_write', 'check_checkpoint_fits', 'checkpoint_state_dict',
    'load_model_checkpoint', 'mmengine_checkpoint_globals', 'read_checkpoint',
    'quiet_mmengine_logger', 'record_calls', 'refuse_bad_input',
    'remove_partial_files', 'save_figure', 'write_png'
]
