# fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py with mmseg's CCHead
# (conv, criss-cross attention twice, conv, concat, classifier) instead of
# FCNHead, as mmseg's ccnet_r50-d8 configs set it: two rounds of attention
# along a position's row and column reach every position of the 4x14 maps.
_base_ = './fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='CCHead',
        in_channels=128,
        in_index=3,
        channels=64,
        recurrence=2,
        dropout_ratio=0.1,
        num_classes=3,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
