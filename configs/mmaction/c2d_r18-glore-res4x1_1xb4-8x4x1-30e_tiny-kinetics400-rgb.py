# The worked video example (demo/recognize_video.sh): the GloRe C2D of
# c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py made small enough to
# train from scratch on a 2-core CPU in a few minutes, on the tiny
# Kinetics-400-format tree of real clips that
#   python tools/dataset_converters/make_tiny_kinetics.py data/tiny_kinetics400
# writes: 3 classes (0 carphone, 1 bikes, 2 bigbuckbunny: the source videos,
# not Kinetics classes, named in demo/tiny_kinetics_labels.txt), 4 clips per
# class and split.
# Model: C2D ResNet-18 (widths 64-512), no pretrained weights, one GloRe3d
# unit after the last block of res4 (layer3.1, 256 channels, 128 states):
# it folds the frames back into clips and reasons over their 4x4x4
# space-time positions (8 frames, halved by C2D's temporal pool after res2;
# 64x64 crops, 1/16 at res4), so its 32 nodes are fewer than the positions
# and none is redundant. Clips of 8 frames 4 apart, short side 72, 64x64
# crops; AdamW with a cosine schedule, batches of 4, 30 epochs of 3
# iterations, validation on the 12 val clips every 10 epochs.
_base_ = ['./c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py']

model = dict(
    backbone=dict(
        depth=18,
        pretrained=None,
        glore_units='res4x1',
        glore_cfg=dict(type='GloRe3d', num_node=32)),
    cls_head=dict(num_classes=3, in_channels=512))

data_root = 'data/tiny_kinetics400'
clip = dict(clip_len=8, frame_interval=4, num_clips=1)
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', **clip),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 72)),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', **clip, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 72)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='kinetics400_train_list_videos.txt',
        data_prefix=dict(video='videos_train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='kinetics400_val_list_videos.txt',
        data_prefix=dict(video='videos_val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# 3 classes: top-1 only (a top-5 of 3 classes is always right)
val_evaluator = dict(
    type='AccMetric',
    metric_list=('top_k_accuracy', ),
    metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_begin=10, val_interval=10)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=0,
        by_epoch=True,
        convert_to_iter_based=True,
        begin=0,
        end=max_epochs)
]
# the batch the learning rate is meant for (--auto-scale-lr)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best=None))
randomness = dict(seed=0)
