# fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py with mmseg's GCHead
# (conv, global context block, conv, concat, classifier; attention pooling,
# channel add, ratio 1/4) instead of FCNHead, as mmseg's gcnet_r50-d8
# configs set it: one context vector per canvas, added at every position.
_base_ = './fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='GCHead',
        in_channels=128,
        in_index=3,
        channels=64,
        ratio=1 / 4.,
        pooling_type='att',
        fusion_types=('channel_add', ),
        dropout_ratio=0.1,
        num_classes=3,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
