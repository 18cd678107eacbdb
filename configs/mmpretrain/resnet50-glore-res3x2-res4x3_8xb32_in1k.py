# ResNet-50 with 5 GloRe units, 2 in res3 after the authors' blocks 1 and 3
# and 3 in res4 after their blocks 1, 3 and 5 (counted from 1, as in
# facebookresearch/GloRe's resnet50_3d_gcn_x5.py), our 0-based layer2.0,
# layer2.2 and layer3.0, layer3.2, layer3.4: the paper's "ResNet-50 +2+3
# GloRe" (glore_units='paper'). ImageNet-1k, 8 GPUs x 32 images, the
# schedule of mmpretrain's ResNet-50 baseline.
_base_ = [
    'mmpretrain::resnet/resnet50_8xb32_in1k.py',
    '../_base_/glore_runtime.py'
]
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
model = dict(
    backbone=dict(
        type='GloReResNet',
        glore_units=dict(layer2=[0, 2], layer3=[0, 2, 4]),
        glore_cfg=dict(type='GloRe2d', normalize=False)))
