# ResNet-101 with 5 GloRe units, 2 in res3 (layer2, after blocks 1 and 3)
# and 3 in res4 (layer3, after blocks 6, 12 and 18): the paper's
# "ResNet-101 + 5 GloRe" (glore_units='paper'). ImageNet-1k, 8 GPUs x 32
# images, the schedule of mmpretrain's ResNet-101 baseline.
_base_ = 'mmpretrain::resnet/resnet101_8xb32_in1k.py'
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='GloReResNet',
        glore_units=dict(layer2=[1, 3], layer3=[6, 12, 18]),
        glore_cfg=dict(type='GloRe2d', normalize=False)))
