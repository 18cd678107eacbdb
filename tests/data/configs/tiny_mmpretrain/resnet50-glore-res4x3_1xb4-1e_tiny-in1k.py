# configs/mmpretrain/resnet50-glore-res4x3_8xb32_in1k.py shrunk for CPU
# tests: ResNet-50 with 8 base channels and its 3 units in layer3, 32x32
# crops of the tiny ImageNet-format tree of tests/tiny_runs.py, 1 epoch,
# batch 4.
_base_ = '../../../../configs/mmpretrain/resnet50-glore-res4x3_8xb32_in1k.py'
data_root = 'data/tiny_imagenet'
model = dict(
    backbone=dict(stem_channels=8, base_channels=8),
    head=dict(in_channels=256))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=36, edge='short'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
optim_wrapper = dict(optimizer=dict(lr=0.05))
default_hooks = dict(logger=dict(interval=1))
randomness = dict(seed=0)
