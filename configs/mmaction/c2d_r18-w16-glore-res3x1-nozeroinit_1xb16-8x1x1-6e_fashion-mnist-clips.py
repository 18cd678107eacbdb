# An ablation: c2d_r18-w16-glore-res3x1_1xb16-8x1x1-6e_fashion-mnist-clips.py
# with the unit's zero-initialised gate switched off (the gate BN starts at
# weight 1), so the unit adds its graph-reasoning output from the first
# step, as the non-local block of ..._nonlocal-res3x1_... does
# (ResNet3d.init_weights sets its output BN to 1): the two global blocks
# compared with the same start.
_base_ = './c2d_r18-w16-glore-res3x1_1xb16-8x1x1-6e_fashion-mnist-clips.py'
model = dict(backbone=dict(glore_cfg=dict(zero_init=False)))
