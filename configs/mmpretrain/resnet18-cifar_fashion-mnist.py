# The plain baseline of the Fashion-MNIST experiment (docs/experiments.md):
# mmpretrain's ResNet_CIFAR-18 (3x3 stem, no max-pool) on 28x28 grayscale
# images, shrunk for a 2-core CPU: 16 base channels (widths 16-32-64-128,
# maps 28-14-7-4), trained from scratch for 2 epochs on a fixed subset, the
# first 6,000 of the 60,000 training images (560-643 per class), and
# evaluated on the full 10,000-image test set. 1 process x 32 images, random
# horizontal flips only, SGD (momentum 0.9, weight decay 5e-4), lr 0.05 with a
# cosine decay per iteration.
# The GloRe variants (resnet18-cifar_fashion-mnist_glore-*.py) change only
# the backbone. Data: python tools/dataset_converters/fashion_mnist.py
_base_ = [
    'mmpretrain::_base_/models/resnet18_cifar.py',
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/glore_runtime.py',
]
custom_imports = dict(
    imports=['glore_mm.mmpretrain'], allow_failed_imports=False)

dataset_type = 'FashionMNIST'
data_root = 'data/fashion_mnist'
num_train_images = 6000
max_epochs = 2
model = dict(
    backbone=dict(in_channels=1, stem_channels=16, base_channels=16),
    # 10 classes, as the base's CIFAR-10 head
    head=dict(in_channels=128))
# Fashion-MNIST pixel mean and std (0.2860, 0.3530) times 255
data_preprocessor = dict(
    num_classes=10, mean=[72.94], std=[90.02], to_rgb=False)

train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        download=False,
        indices=num_train_images,
        pipeline=train_pipeline))
# mmpretrain 1.2.0's FashionMNIST chooses the test files by test_mode, not
# by split
val_dataloader = dict(
    batch_size=250,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        download=False,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR',
    by_epoch=True,
    convert_to_iter_based=True,
    T_max=max_epochs,
    begin=0,
    end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=max_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
