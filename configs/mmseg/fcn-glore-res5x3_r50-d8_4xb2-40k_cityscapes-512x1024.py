# The other way in: plain FCN-R50-D8 with GloRe units inside the backbone,
# through mmseg's ResNet `plugins=` mechanism: after conv3 of every
# Bottleneck of layer4 (mmseg's fourth stage, the paper's res5), i.e. 3
# units, hence "res5x3" (the paper's stage numbering, as the presets of
# glore_mm/models/insertion.py). Backbone units see the dilated layer4 map
# (1/8) and whole-image inference has 4x the positions of a crop, hence
# normalize=True. The pretrained ResNet loads with only the units' keys
# missing; each unit starts as the identity.
_base_ = [
    'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    '../_base_/glore_runtime.py'
]
custom_imports = dict(imports=['glore_mm.mmseg'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='GloRe2d', normalize=True),
            stages=(False, False, False, True),
            position='after_conv3')
    ]))
