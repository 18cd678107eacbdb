# i3d_r18-w8-noinflate_1xb16-8x1x1-6e_fashion-mnist-clips.py with one
# GloRe3d unit after the last block of res3 (layer2.1: 16 channels on
# 4x7x7 clips, 8 states, 4 nodes), as in i3d_r18-w8-glore-res3x1_...: one
# graph over the 196 space-time positions of a clip, the only place before
# the head where both ends of a clip meet. The unit starts as the identity
# (zero-initialised gate BN).
_base_ = './i3d_r18-w8-noinflate_1xb16-8x1x1-6e_fashion-mnist-clips.py'
model = dict(
    backbone=dict(
        type='GloReResNet3d',
        glore_units='res3x1',
        glore_cfg=dict(type='GloRe3d')))
