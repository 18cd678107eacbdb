# The plain baseline of the Fashion-MNIST dense relations experiment
# (docs/experiments.md), the relation of the pairs experiment made dense:
# each 32x112 canvas holds two Fashion-MNIST items at least 42 px apart; a
# pixel of an item is 'same' when the other item has its class and
# 'different' when it has not, every other pixel 'background'. One item
# alone says nothing about its label (an item of any class is 'same' with
# probability one half), so the head must relate two items far apart.
# The model is FCN-R18-D8 for a 2-core CPU: ResNetV1c-18 with 16 base
# channels (dilated res4/res5, output stride 8: 128 channels on 4x14
# maps), one input channel, no auxiliary head, trained from scratch for
# 4,000 iterations of 16 of the 8,000 training canvases (AdamW lr 2e-3,
# weight decay 1e-4, poly decay, as the pairs experiment replaced SGD) and
# evaluated every 500 iterations on the 1,000 test canvases, whose items
# come from Fashion-MNIST's test split. In a pilot (one seed) the GloRe
# head left chance after about 1,500 iterations; 4,000 is what lets the
# experiment's 15 runs fit an hour on 2 cores. The variants
# (nonlocal_..., gcnet_..., ccnet_..., glore_...) change only the decode
# head.
# Data: python tools/dataset_converters/fashion_mnist_dense.py
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/glore_runtime.py',
]
custom_imports = dict(imports=['glore_mm.mmseg'], allow_failed_imports=False)

dataset_type = 'FashionMNISTDenseDataset'
data_root = 'data/fashion_mnist_dense'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    pretrained=None,
    # pixel mean and std of the first 2,000 of the 8,000 training canvases
    # (seed 0); training batches are padded to a multiple of 8 (a no-op on
    # the 32x112 canvases)
    data_preprocessor=dict(
        mean=[41.47], std=[65.67], bgr_to_rgb=False, size_divisor=8),
    backbone=dict(depth=18, in_channels=1, stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=128, channels=64, num_classes=3),
    auxiliary_head=None)

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='img_dir/test', seg_map_path='ann_dir/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

max_iters = 4000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1))
randomness = dict(seed=0)
