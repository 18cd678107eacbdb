# ResNet-101 with 5 GloRe units, 2 in res3 after the authors' blocks 1 and 3
# and 3 in res4 after their blocks 6, 12 and 18 (counted from 1, as in
# facebookresearch/GloRe's resnet101_3d_gcn_x5.py), our 0-based layer2.0,
# layer2.2 and layer3.5, layer3.11, layer3.17: the paper's "ResNet-101 + 5
# GloRe" (glore_units='paper'). ImageNet-1k, 8 GPUs x 32 images, the
# schedule of mmpretrain's ResNet-101 baseline.
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
        glore_units=dict(layer2=[0, 2], layer3=[5, 11, 17]),
        glore_cfg=dict(type='GloRe2d', normalize=False)))
