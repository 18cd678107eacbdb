# The plain I3D baseline of the Fashion-MNIST clips experiment
# (docs/experiments.md): is the item of a clip's first frame of the same
# class as the item of its last frame, 7 frames later? Each 8-frame 28x28
# grey clip shows only background noise in the frames in between; two
# classes, half and half.
# The model is I3D for a 2-core CPU: mmaction's ResNet3d at depth 18 with 8
# base channels (widths 8-16-32-64), every block inflated (both convs
# 3x3x3), no temporal stride and no stem pooling before res2 (8 frames of
# 14x14 at res2) and pool2 halving time (4 frames at res3-res5); the grey
# frames are read as 3 equal channels. Trained from scratch on the 8,000
# training clips for 3 epochs (1,500 iterations of 16; AdamW lr 2e-3,
# weight decay 5e-4, cosine decay per iteration, as the pairs experiment
# trains) and evaluated after every epoch on the 1,000 test clips, whose
# items come from Fashion-MNIST's test split. The variants
# (..._glore-res3x1, ..._nonlocal-res3x1) add one block after res3; the C2D
# configs (c2d_r18-w16_...) are the same ResNet3d without inflation.
# Data: python tools/dataset_converters/fashion_mnist_clips.py
_base_ = [
    'mmaction::_base_/models/i3d_r50.py',
    'mmaction::_base_/default_runtime.py',
    '../_base_/glore_runtime.py',
]
custom_imports = dict(
    imports=['glore_mm.mmaction'], allow_failed_imports=False)

dataset_type = 'RawframeDataset'
data_root = 'data/fashion_mnist_clips'
num_frames = 8
model = dict(
    backbone=dict(
        pretrained2d=False,
        pretrained=None,
        depth=18,
        base_channels=8,
        conv1_stride_t=1,
        pool1_stride_t=1,
        pool1_stride_s=1,
        inflate=(1, 1, 1, 1)),
    cls_head=dict(num_classes=2, in_channels=64),
    # pixel mean and std of the frames of the first 250 of the 8,000
    # training clips (seed 0)
    data_preprocessor=dict(mean=[32.11] * 3, std=[50.63] * 3))

train_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=num_frames,
        frame_interval=1,
        num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=num_frames,
        frame_interval=1,
        num_clips=1,
        test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train_list_rawframes.txt',
        data_prefix=dict(img='rawframes/train'),
        filename_tmpl='img_{:05}.png',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/test_list_rawframes.txt',
        data_prefix=dict(img='rawframes/test'),
        filename_tmpl='img_{:05}.png',
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='AccMetric',
    metric_list=('top_k_accuracy', ),
    metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

max_epochs = 3
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=5e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0,
        by_epoch=True,
        convert_to_iter_based=True,
        begin=0,
        end=max_epochs)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=max_epochs,
        max_keep_ckpts=1,
        save_best=None))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
