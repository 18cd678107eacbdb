# C2D ResNet-101 with the paper's GloRe units over space-time: after the
# authors' blocks 1 and 3 of res3 and 6, 12, 18 of res4 (counted from 1; our
# 0-based layer2.0, layer2.2, layer3.5, layer3.11, layer3.17), the "+5".
# ImageNet ResNet-101 weights (torchvision), as mmaction's C2D R101.
_base_ = ['./c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py']

model = dict(
    backbone=dict(
        depth=101,
        pretrained=('https://download.pytorch.org/'
                    'models/resnet101-cd907fc2.pth')))
