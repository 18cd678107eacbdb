# ResNet-50 with 3 GloRe units in res4 (layer3, after blocks 1, 3 and 5):
# the paper's "ResNet-50 + 3 GloRe". ImageNet-1k, 8 GPUs x 32 images, the
# schedule of mmpretrain's ResNet-50 baseline.
_base_ = 'mmpretrain::resnet/resnet50_8xb32_in1k.py'
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='GloReResNet',
        glore_units=dict(layer3=[1, 3, 5]),
        glore_cfg=dict(type='GloRe2d', normalize=False)))
