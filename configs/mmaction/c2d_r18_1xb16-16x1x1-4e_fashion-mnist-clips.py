# The C2D baseline of the Fashion-MNIST clips experiment: everything as in
# i3d_r18-w8_1xb16-16x1x1-4e_fashion-mnist-clips.py (16-frame clips, the
# same head, schedule and data), but mmaction's C2D at depth 18: 2-D
# ResNet-18 blocks run frame by frame, and the only mixing in time is the
# 2-frame max-pool after res2 (16 frames at res2, 8 at res3-res5). mmaction's
# C2D has fixed widths (64-128-256-512); it is the plain network of
# ..._glore-res3x1.py, which adds a unit reasoning over space-time.
_base_ = './i3d_r18-w8_1xb16-16x1x1-4e_fashion-mnist-clips.py'
model = dict(
    backbone=dict(
        _delete_=True, type='C2D', depth=18, pretrained=None, norm_eval=False),
    cls_head=dict(in_channels=512))
