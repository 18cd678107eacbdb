# ResNet-101 with 3 GloRe units in res4 (layer3, 23 blocks: after blocks 6,
# 12 and 18): the paper's "ResNet-101 + 3 GloRe". ImageNet-1k, 8 GPUs x 32
# images, the schedule of mmpretrain's ResNet-101 baseline.
_base_ = 'mmpretrain::resnet/resnet101_8xb32_in1k.py'
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='GloReResNet',
        glore_units=dict(layer3=[6, 12, 18]),
        glore_cfg=dict(type='GloRe2d', normalize=False)))
