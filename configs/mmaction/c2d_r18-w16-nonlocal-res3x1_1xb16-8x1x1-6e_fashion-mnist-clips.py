# c2d_r18-w16_1xb16-8x1x1-6e_fashion-mnist-clips.py with mmaction's own
# non-local block at the place of the GloRe unit of ..._glore-res3x1_...: an
# mmcv NonLocal3d at the end of the last block of res3 (layer2.1, 32
# channels on 4x7x7 clips: 16 inter channels), the block over space-time
# that mmaction's non-local models add, set as
# i3d_r18-w8-nonlocal-res3x1_... sets it (embedded Gaussian, keys and values
# max-pooled 2x2 in space, BN3d). The block does not start as the
# identity: mmcv zero-initialises its output BN, but ResNet3d.init_weights
# then sets every BN weight of the backbone to 1, this one included, so it
# adds its full output from the first step, as in mmaction's own non-local
# configs (the GloRe unit starts as the identity; the ..._nozeroinit
# configs start it at full strength too).
_base_ = './c2d_r18-w16_1xb16-8x1x1-6e_fashion-mnist-clips.py'
model = dict(
    backbone=dict(
        non_local=((0, 0), (0, 1), (0, 0), (0, 0)),
        non_local_cfg=dict(
            sub_sample=True,
            use_scale=False,
            norm_cfg=dict(type='BN3d', requires_grad=True),
            mode='embedded_gaussian')))
