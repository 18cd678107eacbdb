# i3d_r101-glore_8xb8-8x8x1-100e_kinetics400-rgb.py tested as mmaction tests
# its I3D: 10 clips x 3 crops of 256 at short side 256, scores averaged.
_base_ = ['./i3d_r101-glore_8xb8-8x8x1-100e_kinetics400-rgb.py']

test_pipeline = [
    dict(type='DecordInit', io_backend='disk'),
    dict(
        type='SampleFrames',
        clip_len=8,
        frame_interval=8,
        num_clips=10,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
