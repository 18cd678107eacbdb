# What the tiny mmaction configs share: the tiny Kinetics-400 tree of
# tools/dataset_converters/make_tiny_kinetics.py (3 classes), read in the
# main process in batches of 2; 4-frame clips at stride 4 cropped to 32x32.
# A config lists this file in its _base_ beside the real config it shrinks.
# MMEngine refuses a key that two bases define, so the keys here are named
# tiny_* and the configs put them in place, e.g.
#   train_dataloader = _base_.tiny_train_dataloader
tiny_data_root = 'data/tiny_kinetics400'
tiny_loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
tiny_train_set = dict(
    data_root=tiny_data_root,
    ann_file='kinetics400_train_list_videos.txt',
    data_prefix=dict(video='videos_train'))
tiny_val_set = dict(
    data_root=tiny_data_root,
    ann_file='kinetics400_val_list_videos.txt',
    data_prefix=dict(video='videos_val'))
tiny_train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='RandomCrop', size=32),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
tiny_test_pipeline = [
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
tiny_train_dataloader = dict(
    **tiny_loader, dataset=dict(**tiny_train_set,
                                pipeline=tiny_train_pipeline))
tiny_val_dataloader = dict(
    **tiny_loader, dataset=dict(**tiny_val_set, pipeline=tiny_test_pipeline))
# One epoch, a log line per iteration, a checkpoint per epoch, seeded.
tiny_default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, save_best=None))
