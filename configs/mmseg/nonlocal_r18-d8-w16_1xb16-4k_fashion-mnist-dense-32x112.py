# fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py with mmseg's NLHead
# (conv, non-local block, conv, concat, classifier; embedded Gaussian, 32
# inter channels) instead of FCNHead, as mmseg's nonlocal_r50-d8 configs
# set it: every position of the 4x14 maps attends to all 56.
_base_ = './fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='NLHead',
        in_channels=128,
        in_index=3,
        channels=64,
        dropout_ratio=0.1,
        reduction=2,
        use_scale=True,
        mode='embedded_gaussian',
        num_classes=3,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
