# An ablation: i3d_r18-w8-noinflate-glore-res3x1_1xb16-8x1x1-6e_... with
# the unit's zero-initialised gate switched off (the gate BN starts at
# weight 1), so the unit adds its graph-reasoning output from the first
# step, as the non-local block of ..._noinflate-nonlocal-res3x1_... does
# (ResNet3d.init_weights sets its output BN to 1): the two global blocks
# compared with the same start.
_base_ = './i3d_r18-w8-noinflate-glore-res3x1_1xb16-8x1x1-6e_fashion-mnist-clips.py'  # noqa: E501
model = dict(backbone=dict(glore_cfg=dict(zero_init=False)))
