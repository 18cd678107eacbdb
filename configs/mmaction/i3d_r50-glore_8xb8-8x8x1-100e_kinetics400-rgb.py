# I3D ResNet-50 with the paper's GloRe units on Kinetics-400: GloRe3d over
# space-time after the authors' blocks 1 and 3 of res3 and 1, 3, 5 of res4
# (counted from 1; our 0-based layer2.0, layer2.2, layer3.0, layer3.2,
# layer3.4), the paper's "+2+3". 8-frame clips at stride 8, as in the paper;
# the backbone inflates ImageNet ResNet-50 weights (torchvision), as
# mmaction's I3D does. Default test: the paper's 1 clip x 1 center crop of
# 224 at short side 256; `*_test-10clip-3crop.py` is mmaction's 30-view test.
_base_ = [
    'mmaction::recognition/i3d/'
    'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py',
    '../_base_/glore_runtime.py'
]

custom_imports = dict(
    imports=['glore_mm.mmaction'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))

model = dict(
    backbone=dict(
        type='GloReResNet3d',
        # 8 input frames: no temporal stride before res2, whose pool2 halves
        # T, so res3-res5 see T=4 as in mmaction's 32x2x1 I3D and C2D 8x8x1.
        conv1_stride_t=1,
        pool1_stride_t=1,
        glore_units='paper',
        glore_cfg=dict(type='GloRe3d')))

train_pipeline = [
    dict(type='DecordInit', **_base_.file_client_args),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.8),
        random_crop=False,
        max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# The paper's test: 1 clip x 1 crop, 224 center crop at short side 256.
val_pipeline = [
    dict(type='DecordInit', **_base_.file_client_args),
    dict(
        type='SampleFrames',
        clip_len=8,
        frame_interval=8,
        num_clips=1,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
