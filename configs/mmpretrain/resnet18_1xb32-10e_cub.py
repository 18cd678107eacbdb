# The baseline of the CUB-200-2011 experiment: plain ResNet-18 from
# mmpretrain's ImageNet-1k weights, fine-tuned 10 epochs on 448x448 crops,
# 1 GPU x 32 images, SGD (momentum 0.9, weight decay 5e-4), cosine LR.
# The GloRe variants (resnet18-glore-*_1xb32-10e_cub.py) change only the
# backbone. Data preparation: docs/classification.md.
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    'mmpretrain::_base_/datasets/cub_bs8_448.py',
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/glore_runtime.py',
]
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)
pretrained = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet18_8xb32_in1k_20210831-fbbb1da6.pth'  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone')),
    head=dict(num_classes=200))
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = dict(batch_size=32)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=10, by_epoch=True, begin=0, end=10)
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(
        type='AtomicCheckpointHook', max_keep_ckpts=1, save_best='auto'))
