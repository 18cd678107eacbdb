# FCN-R50-D8 with 3 GloRe units in res4 (layer3, the first dilated stage,
# 1/8 resolution) after the authors' blocks 1, 3 and 5 (counted from 1),
# our 0-based layer3.0, layer3.2, layer3.4, placed by GloReResNetV1c. The
# pretrained ResNetV1c loads with only the units' keys missing; each unit
# starts as the identity. Whole-image inference sees 4x the positions of a
# 512x1024 crop, hence normalize=True.
_base_ = [
    'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    '../_base_/glore_runtime.py'
]
custom_imports = dict(imports=['glore_mm.mmseg'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))
model = dict(
    backbone=dict(
        type='GloReResNetV1c',
        glore_units=dict(layer3=[0, 2, 4]),
        glore_cfg=dict(type='GloRe2d', normalize=True)))
