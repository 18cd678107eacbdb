# configs/mmaction/i3d_r50-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py
# (the authors' Kinetics recipe: Nesterov SGD, warm-up, precise BN, their
# augmentation) shrunk for CPU tests: 8 base channels, the tiny Kinetics
# tree of tools/dataset_converters/make_tiny_kinetics.py (3 classes),
# batches of 2, 1 epoch, precise BN on 4 clips. The pipelines and the
# recipe are the real config's.
_base_ = ('../../../../configs/mmaction/'
          'i3d_r50-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py')
data_root = 'data/tiny_kinetics400'
model = dict(
    backbone=dict(pretrained=None, base_channels=8),
    cls_head=dict(num_classes=3, in_channels=256))
loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(
    **loader,
    dataset=dict(
        data_root=data_root,
        ann_file='kinetics400_train_list_videos.txt',
        data_prefix=dict(video='videos_train')))
val_dataloader = dict(
    **loader,
    dataset=dict(
        data_root=data_root,
        ann_file='kinetics400_val_list_videos.txt',
        data_prefix=dict(video='videos_val')))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
custom_hooks = [
    dict(
        type='mmpretrain.PreciseBNHook',
        num_samples=4,
        interval=1,
        priority='ABOVE_NORMAL')
]
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=1, save_best=None))
randomness = dict(seed=0)
