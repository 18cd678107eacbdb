# c2d_r18-w16_1xb16-8x1x1-6e_fashion-mnist-clips.py with one GloRe3d unit
# after the last block of res3 (layer2.1: 32 channels on 4x7x7 clips, 16
# states, 8 nodes): the only place before the head where the frames of a
# clip meet, one graph over its 196 space-time positions. The unit starts
# as the identity (zero-initialised gate BN).
_base_ = './c2d_r18-w16_1xb16-8x1x1-6e_fashion-mnist-clips.py'
model = dict(
    backbone=dict(
        type='GloReResNet3d',
        glore_units='res3x1',
        glore_cfg=dict(type='GloRe3d')))
