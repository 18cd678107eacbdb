# What glore_mm adds to the upstream runtime. Every config of ours lists this
# file in its _base_ beside the upstream config it builds on, e.g.
#   _base_ = ['mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
#             '../_base_/glore_runtime.py']
# so that every tool reading the config runs it the same way: tools/train.py
# and tools/test.py, the train.py and test.py that mmseg, mmpretrain and
# mmaction ship, and `mim train`.

# glore_mm.engine registers the hooks. The configs of ours replace this list
# with the one module of their library (glore_mm.mmseg, glore_mm.mmpretrain,
# glore_mm.mmaction), which imports glore_mm.engine too.
custom_imports = dict(imports=['glore_mm.engine'], allow_failed_imports=False)

# RandomStateHook keeps the random states of every rank in each checkpoint,
# so that --resume continues exactly where a killed run stopped (same
# weights, bit for bit, given a seed and deterministic kernels).
# TestProgressBarHook draws a progress bar over the batches of each
# validation (during training too) and of a test.
# A config that sets custom_hooks of its own keeps these two:
#   custom_hooks = [*_base_.custom_hooks, dict(type=...)]
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='TestProgressBarHook'),
]

# The checkpoint hook cannot be set here: the upstream bases define
# default_hooks, and MMEngine refuses a key that two bases of one config
# define ("Duplicate key is not allowed among bases"). So each config that
# inherits an upstream config directly has one line,
#   default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
# which keeps the upstream interval, by_epoch, max_keep_ckpts and save_best
# and writes every checkpoint and last_checkpoint atomically: a kill during
# a save leaves the previous checkpoint whole and last_checkpoint naming it.
