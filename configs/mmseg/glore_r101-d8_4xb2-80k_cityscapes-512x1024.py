# FCN-R101-D8 with the GloRe head (conv, GloRe unit, conv) on Cityscapes,
# 512x1024 crops, 80k iterations, 4 GPUs x 2 images, SyncBN.
_base_ = [
    'mmseg::fcn/fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/glore_runtime.py'
]
custom_imports = dict(imports=['glore_mm.mmseg'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
model = dict(decode_head=dict(type='GloReHead', normalize=True))
