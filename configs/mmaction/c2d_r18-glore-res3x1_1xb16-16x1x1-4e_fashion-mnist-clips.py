# c2d_r18_1xb16-16x1x1-4e_fashion-mnist-clips.py with one GloRe3d unit after
# the last block of res3 (layer2.1: 128 channels, 64 states, 32 nodes): the
# frames of a clip are folded back into [N, C, T, H, W] and one graph
# reasons over its 8x4x4 space-time positions. The unit starts as the
# identity (zero-initialised gate BN).
_base_ = './c2d_r18_1xb16-16x1x1-4e_fashion-mnist-clips.py'
model = dict(
    backbone=dict(
        type='GloReC2D', glore_units='res3x1', glore_cfg=dict(type='GloRe3d')))
