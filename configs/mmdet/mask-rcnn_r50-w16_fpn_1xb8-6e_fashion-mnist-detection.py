# The plain baseline of the Fashion-MNIST detection experiment
# (docs/detection.md): Mask R-CNN R-50-FPN shrunk for a 2-core CPU, trained
# from scratch on the Fashion-MNIST detection set of
# tools/dataset_converters/fashion_mnist_detection.py (its defaults: 2,000
# training canvases of 96x96 from the training split, 500 validation
# canvases from the test split, 1-4 items of 24-48 pixels each, the 10
# Fashion-MNIST classes). ResNet-50 at a quarter of the width (16 base
# channels: 64-128-256-512 out), an FPN of 64 channels, lighter heads and
# fewer proposals; images at their size; 1 process x 8 images, SGD, 6
# epochs (lr x0.1 for the last), box and mask AP from mmdet's CocoMetric
# after every epoch. The GloRe variant (..._glore-res4x3_...) changes only
# the backbone.
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/glore_runtime.py'
]
custom_imports = dict(imports=['glore_mm.mmdet'], allow_failed_imports=False)

data_root = 'data/fashion_mnist_detection/'
# glore_mm.datasets.fashion_mnist_detection.CLASSES, category ids 1-10
classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
image_size = (96, 96)  # width, height
max_epochs = 6
width = 64  # FPN and RoI feature channels

model = dict(
    backbone=dict(
        stem_channels=16,
        base_channels=16,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(
            in_channels=width, fc_out_channels=256, num_classes=10),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(
            num_convs=2,
            in_channels=width,
            conv_out_channels=width,
            num_classes=10)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(max_per_img=20)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor', 'instances'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    batch_sampler=None,
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# CocoMetric builds its COCO ground truth from the validation set's
# annotations, which the test pipeline passes on as 'instances' (so a
# --cfg-options data_root is enough); its areas are those of the boxes,
# which enter only the small/medium/large split, not AP.
val_evaluator = dict(ann_file=None)
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=100),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[5],
        gamma=0.1)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
