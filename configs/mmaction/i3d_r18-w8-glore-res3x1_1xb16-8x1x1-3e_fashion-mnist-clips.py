# i3d_r18-w8_1xb16-8x1x1-3e_fashion-mnist-clips.py with one GloRe3d unit
# after the last block of res3 (layer2.1: 16 channels on 4x7x7 clips, 8
# states, 4 nodes): one graph over the 196 space-time positions of a clip.
# The unit starts as the identity (zero-initialised gate BN).
_base_ = './i3d_r18-w8_1xb16-8x1x1-3e_fashion-mnist-clips.py'
model = dict(
    backbone=dict(
        type='GloReResNet3d',
        glore_units='res3x1',
        glore_cfg=dict(type='GloRe3d')))
