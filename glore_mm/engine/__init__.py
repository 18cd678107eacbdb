# Copyright (c) glore_mm contributors. All rights reserved.
"""Training and testing support shared by ``tools/train.py`` and
``tools/test.py``.

Importing this package registers ``TestProgressBarHook`` in MMEngine's root
``HOOKS`` and ``CPUDistributedDataParallel`` in its root ``MODEL_WRAPPERS``.
"""
from .distributed import (CPUDistributedDataParallel, cpu_model_wrapper_cfg,
                          finish_distributed, setup_cpu_distributed)
from .hooks import TestProgressBarHook

__all__ = [
    'CPUDistributedDataParallel', 'TestProgressBarHook',
    'cpu_model_wrapper_cfg', 'finish_distributed', 'setup_cpu_distributed'
]
