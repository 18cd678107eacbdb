# configs/mmdet/mask-rcnn_r50-w16-glore-res4x3_fpn_1xb8-6e_fashion-mnist-
# detection.py shrunk for CPU tests: ResNet-50 with 8 base channels and its
# 3 units in layer3, 16-channel FPN and heads, batches of 2, 1 epoch, on a
# few canvases of the Fashion-MNIST detection set that the tests generate.
_base_ = ('../../../../configs/mmdet/'
          'mask-rcnn_r50-w16-glore-res4x3_fpn_1xb8-6e_fashion-mnist-'
          'detection.py')
data_root = 'data/tiny_fashion_mnist_detection/'
width = 16
model = dict(
    backbone=dict(stem_channels=8, base_channels=8),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=width),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, fc_out_channels=32),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(in_channels=width, conv_out_channels=width)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=100, max_per_img=50),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=50)))
loader = dict(batch_size=2, dataset=dict(data_root=data_root))
train_dataloader = loader
val_dataloader = loader
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)
]
train_cfg = dict(max_epochs=1)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1))
