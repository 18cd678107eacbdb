# ResNet-18 with one GloRe unit after the last block of res3 (layer2.1, our
# own placement, not the paper's),
# fine-tuned on CUB-200-2011 from the plain ImageNet-1k ResNet-18 weights:
# the unit's keys are missing from the checkpoint and it starts as the
# identity. Everything else as in resnet18_1xb32-10e_cub.py.
_base_ = './resnet18_1xb32-10e_cub.py'
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='GloReResNet',
        glore_units=dict(layer2=[-1]),
        glore_cfg=dict(type='GloRe2d', normalize=False)))
