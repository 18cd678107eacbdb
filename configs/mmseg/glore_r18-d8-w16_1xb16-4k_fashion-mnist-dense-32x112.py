# fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py with the GloRe head
# (conv, GloRe unit, conv, concat, classifier) instead of FCNHead (conv,
# conv, concat, classifier): on the 4x14 maps of res5, 64 channels, the
# unit projects the 56 positions onto 16 nodes of 32 states, reasons over
# them with a graph convolution and projects back. It starts as the
# identity (zero-initialised gate BN).
_base_ = './fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='GloReHead',
        in_channels=128,
        in_index=3,
        channels=64,
        concat_input=True,
        dropout_ratio=0.1,
        num_classes=3,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
