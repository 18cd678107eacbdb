# ResNet-101 with 3 GloRe units in res4 (23 blocks): after the authors'
# blocks 6, 12 and 18 (counted from 1, as in facebookresearch/GloRe's
# resnet101_3d_gcn_x5.py), our 0-based layer3.5, layer3.11, layer3.17
# (glore_units='res4x3'). ImageNet-1k, 8 GPUs x 32 images, the schedule of
# mmpretrain's ResNet-101 baseline.
_base_ = [
    'mmpretrain::resnet/resnet101_8xb32_in1k.py',
    '../_base_/glore_runtime.py'
]
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
model = dict(
    backbone=dict(
        type='GloReResNet',
        glore_units=dict(layer3=[5, 11, 17]),
        glore_cfg=dict(type='GloRe2d', normalize=False)))
