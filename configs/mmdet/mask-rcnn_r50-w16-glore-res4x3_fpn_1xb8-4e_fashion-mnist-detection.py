# mask-rcnn_r50-w16_fpn_1xb8-4e_fashion-mnist-detection.py with 3 GloRe
# units in res4 (layer3) after the authors' blocks 1, 3 and 5 (counted from
# 1): glore_units='res4x3', 256 channels, 128 states, 64 nodes each.
# Everything else is the baseline's; each unit starts as the identity.
_base_ = './mask-rcnn_r50-w16_fpn_1xb8-4e_fashion-mnist-detection.py'
model = dict(backbone=dict(type='GloReResNet', glore_units='res4x3'))
