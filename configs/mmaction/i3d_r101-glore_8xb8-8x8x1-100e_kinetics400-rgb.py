# I3D ResNet-101 with the paper's GloRe units: after the authors' blocks 1
# and 3 of res3 and 6, 12, 18 of res4 (counted from 1; our 0-based layer2.0,
# layer2.2, layer3.5, layer3.11, layer3.17), the paper's "+5". ImageNet
# ResNet-101 weights (torchvision) inflated; res4 inflates every other block
# as the ResNet-50 recipe does.
_base_ = ['./i3d_r50-glore_8xb8-8x8x1-100e_kinetics400-rgb.py']

model = dict(
    backbone=dict(
        depth=101,
        pretrained='torchvision://resnet101',
        inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0) * 11 + (1, ), (0, 1, 0))))
