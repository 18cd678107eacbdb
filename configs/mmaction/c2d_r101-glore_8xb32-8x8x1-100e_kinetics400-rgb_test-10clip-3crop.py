# c2d_r101-glore_8xb32-8x8x1-100e_kinetics400-rgb.py tested as mmaction tests
# its C2D: the 30-view test of
# c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb_test-10clip-3crop.py (10
# clips x 3 crops of 224 at short side 224, scores averaged) with the
# ResNet-101 of c2d_r101-glore_8xb32-8x8x1-100e_kinetics400-rgb.py.
_base_ = [
    './c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb_test-10clip-3crop.py'
]

model = dict(
    backbone=dict(
        depth=101,
        pretrained=('https://download.pytorch.org/'
                    'models/resnet101-cd907fc2.pth')))
