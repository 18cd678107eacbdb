# configs/mmaction/c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py shrunk
# for CPU tests: C2D ResNet-18 (C2D has no base_channels) with one GloRe3d
# unit over space-time at the end of res3 and of res4, 4-frame clips at
# stride 4 cropped to 32x32, from the tiny Kinetics tree of
# tools/dataset_converters/make_tiny_kinetics.py (3 classes), 1 epoch.
_base_ = ('../../../../configs/mmaction/'
          'c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py')
data_root = 'data/tiny_kinetics400'
model = dict(
    backbone=dict(
        depth=18,
        pretrained=None,
        # a dict replacing the base's preset name needs _delete_
        glore_units=dict(_delete_=True, layer2=[-1], layer3=[-1])),
    cls_head=dict(num_classes=3, in_channels=512))
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='RandomCrop', size=32),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=4,
        frame_interval=4,
        num_clips=1,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader,
    dataset=dict(
        data_root=data_root,
        ann_file='kinetics400_train_list_videos.txt',
        data_prefix=dict(video='videos_train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    **loader,
    dataset=dict(
        data_root=data_root,
        ann_file='kinetics400_val_list_videos.txt',
        data_prefix=dict(video='videos_val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
param_scheduler = []
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, save_best=None))
randomness = dict(seed=0)
