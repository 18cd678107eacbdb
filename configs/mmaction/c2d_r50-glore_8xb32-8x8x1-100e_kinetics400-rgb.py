# C2D ResNet-50 with the paper's GloRe units on Kinetics-400: after the
# authors' blocks 1 and 3 of res3 and 1, 3, 5 of res4 (counted from 1; our
# 0-based layer2.0, layer2.2, layer3.0, layer3.2, layer3.4), the "+2+3".
# C2D runs its blocks per frame ([N*T, C, H, W]); each GloRe3d unit folds
# them back into clips and reasons over space-time (T x H x W), as the
# paper does; glore_cfg=dict(type='GloRe2d') reasons per frame instead.
# 8-frame clips at stride 8 and ImageNet ResNet-50 weights (torchvision),
# as mmaction's C2D. Default test: the paper's 1 clip x 1 center crop of 224
# at short side 256; `*_test-10clip-3crop.py` is mmaction's 30-view test.
_base_ = [
    'mmaction::recognition/c2d/'
    'c2d_r50-in1k-pre_8xb32-8x8x1-100e_kinetics400-rgb.py',
    '../_base_/glore_runtime.py'
]

custom_imports = dict(
    imports=['glore_mm.mmaction'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))

model = dict(
    backbone=dict(
        type='GloReC2D', glore_units='paper', glore_cfg=dict(type='GloRe3d')))

# The paper's test: 1 clip x 1 crop, 224 center crop at short side 256,
# which is mmaction's C2D validation pipeline.
test_pipeline = _base_.val_pipeline
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
