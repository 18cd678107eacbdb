# configs/mmaction/i3d_r50-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py
# (the authors' Kinetics recipe: Nesterov SGD, warm-up, precise BN, their
# augmentation) shrunk for CPU tests: 8 base channels, the tiny Kinetics
# tree of _base_/tiny_kinetics400.py (3 classes), batches of 2, 1 epoch,
# precise BN on 4 clips. The pipelines and the recipe are the real config's.
_base_ = [
    '../../../../configs/mmaction/'
    'i3d_r50-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py',
    './_base_/tiny_kinetics400.py'
]
model = dict(
    backbone=dict(pretrained=None, base_channels=8),
    cls_head=dict(num_classes=3, in_channels=256))
data_root = _base_.tiny_data_root
train_dataloader = dict(**_base_.tiny_loader, dataset=_base_.tiny_train_set)
val_dataloader = dict(**_base_.tiny_loader, dataset=_base_.tiny_val_set)
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
# the base's hooks, its precise BN (the last one) on 4 clips
custom_hooks = [
    *_base_.custom_hooks[:-1],
    dict(
        type='mmpretrain.PreciseBNHook',
        num_samples=4,
        interval=1,
        priority='ABOVE_NORMAL')
]
default_hooks = _base_.tiny_default_hooks
randomness = dict(seed=0)
