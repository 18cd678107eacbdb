# Copyright (c) glore_mm contributors. All rights reserved.
"""Training and testing support shared by ``tools/train.py`` and
``tools/test.py``.

- :mod:`.arguments`: the tools' command lines.
- :mod:`.runner_setup`: the config edits the arguments ask for, and the
  runner.
- :mod:`.missing_hooks`: the hooks our configs declare, added to configs
  from elsewhere that lack them.
- :mod:`.cpu_distributed`: distributed runs on machines without CUDA.
- :mod:`.hooks`, :mod:`.checkpoint_hooks`, :mod:`.random_states`: the hooks
  our configs declare (``configs/_base_/glore_runtime.py``).

Importing this package registers ``TestProgressBarHook``,
``RandomStateHook`` and ``AtomicCheckpointHook`` in MMEngine's root
``HOOKS``, ``CPUDistributedDataParallel`` in its root ``MODEL_WRAPPERS``
and the ``'atomic_local'`` file backend. ``glore_mm.mmseg``,
``glore_mm.mmpretrain`` and ``glore_mm.mmaction``, the ``custom_imports``
of our configs, import it, so that any tool running them finds the hooks.
"""
from .checkpoint_hooks import AtomicCheckpointHook, AtomicLocalBackend
from .cpu_distributed import (CPUDistributedDataParallel,
                              cpu_model_wrapper_cfg, finish_distributed,
                              setup_cpu_distributed)
from .hooks import TestProgressBarHook
from .random_states import (RandomStateHook, gather_random_states,
                            get_random_states, set_random_states)

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'CPUDistributedDataParallel',
    'RandomStateHook', 'TestProgressBarHook', 'cpu_model_wrapper_cfg',
    'finish_distributed', 'gather_random_states', 'get_random_states',
    'set_random_states', 'setup_cpu_distributed'
]
