# i3d_r101-glore_8xb8-8x8x1-100e_kinetics400-rgb.py with the authors'
# Kinetics recipe of i3d_r50-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py
# (the authors train both depths alike: train_kinetics.py).
_base_ = ['./i3d_r50-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py']

model = dict(
    backbone=dict(
        depth=101,
        pretrained='torchvision://resnet101',
        inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0) * 11 + (1, ), (0, 1, 0))))
