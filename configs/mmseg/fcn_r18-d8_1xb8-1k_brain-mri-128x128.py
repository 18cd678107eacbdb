# The plain FCN baseline of the GloRe brain-MRI demo: everything as in
# glore_r18-d8_1xb8-1k_brain-mri-128x128.py (ResNetV1c-18 with 16 base
# channels from scratch, 128x128 axial slices, 3 classes, 1000 iterations of
# 8 images), but mmseg's FCNHead (conv, conv, concat, classifier) instead of
# the GloRe head (conv, GloRe unit, conv, concat, classifier).
_base_ = './glore_r18-d8_1xb8-1k_brain-mri-128x128.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='FCNHead',
        in_channels=128,
        in_index=3,
        channels=64,
        num_convs=2,
        concat_input=True,
        dropout_ratio=0.1,
        num_classes=3,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
