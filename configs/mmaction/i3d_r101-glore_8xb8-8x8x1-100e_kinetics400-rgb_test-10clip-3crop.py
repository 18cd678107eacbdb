# i3d_r101-glore_8xb8-8x8x1-100e_kinetics400-rgb.py tested as mmaction tests
# its I3D: the 30-view test of
# i3d_r50-glore_8xb8-8x8x1-100e_kinetics400-rgb_test-10clip-3crop.py (10
# clips x 3 crops of 256 at short side 256, scores averaged) with the
# ResNet-101 of i3d_r101-glore_8xb8-8x8x1-100e_kinetics400-rgb.py.
_base_ = [
    './i3d_r50-glore_8xb8-8x8x1-100e_kinetics400-rgb_test-10clip-3crop.py'
]

model = dict(
    backbone=dict(
        depth=101,
        pretrained='torchvision://resnet101',
        inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0) * 11 + (1, ), (0, 1, 0))))
