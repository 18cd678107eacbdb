# configs/mmaction/i3d_r50-glore_8xb8-8x8x1-100e_kinetics400-rgb.py shrunk
# for CPU tests: I3D ResNet-50 with 8 base channels and the paper's 5 units,
# on the tiny clips of _base_/tiny_kinetics400.py, 1 epoch.
_base_ = [
    '../../../../configs/mmaction/'
    'i3d_r50-glore_8xb8-8x8x1-100e_kinetics400-rgb.py',
    './_base_/tiny_kinetics400.py'
]
model = dict(
    backbone=dict(pretrained=None, base_channels=8),
    cls_head=dict(num_classes=3, in_channels=256))
data_root = _base_.tiny_data_root
train_pipeline = _base_.tiny_train_pipeline
test_pipeline = _base_.tiny_test_pipeline
train_dataloader = _base_.tiny_train_dataloader
val_dataloader = _base_.tiny_val_dataloader
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
param_scheduler = []
default_hooks = _base_.tiny_default_hooks
randomness = dict(seed=0)
