# configs/mmaction/c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py shrunk
# for CPU tests: C2D ResNet-18 (C2D has no base_channels) with one GloRe3d
# unit over space-time at the end of res3 and of res4, on the tiny clips of
# _base_/tiny_kinetics400.py, 1 epoch.
_base_ = [
    '../../../../configs/mmaction/'
    'c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py',
    './_base_/tiny_kinetics400.py'
]
model = dict(
    backbone=dict(
        depth=18,
        pretrained=None,
        # a dict replacing the base's preset name needs _delete_
        glore_units=dict(_delete_=True, layer2=[-1], layer3=[-1])),
    cls_head=dict(num_classes=3, in_channels=512))
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
