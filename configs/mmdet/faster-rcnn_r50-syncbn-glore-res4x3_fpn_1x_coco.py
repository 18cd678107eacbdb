# faster-rcnn_r50-glore-res4x3_fpn_1x_coco.py with SyncBN in the
# backbone, trained (norm_eval=False), as mmdet's gcnet/*-syncbn-* configs:
# the units' gates are SyncBN too and normalise with batch statistics in
# training.
_base_ = './faster-rcnn_r50-glore-res4x3_fpn_1x_coco.py'
model = dict(
    backbone=dict(
        norm_cfg=dict(type='SyncBN', requires_grad=True), norm_eval=False))
