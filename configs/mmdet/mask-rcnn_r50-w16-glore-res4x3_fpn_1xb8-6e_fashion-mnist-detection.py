# mask-rcnn_r50-w16_fpn_1xb8-6e_fashion-mnist-detection.py with 3 GloRe
# units in res4 (layer3) after the authors' blocks 1, 3 and 5 (counted from
# 1): glore_units='res4x3', 256 channels, 128 states and 64 nodes each, on
# res4's 6x6 maps of a 96x96 canvas (the authors' node ratio; ImageNet's
# 224x224 gives res4 196 positions for its 256 nodes). Everything else is
# the baseline's; each unit starts as the identity.
_base_ = './mask-rcnn_r50-w16_fpn_1xb8-6e_fashion-mnist-detection.py'
model = dict(backbone=dict(type='GloReResNet', glore_units='res4x3'))
