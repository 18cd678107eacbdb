# resnet18-cifar_fashion-mnist-pairs.py with one GloRe unit after the last
# block of res3 (layer2.1 of ResNet_CIFAR-18, 14x56 maps, 16 channels: 8
# states, 4 nodes). The unit starts as the identity (zero-initialised gate
# BN).
_base_ = './resnet18-cifar_fashion-mnist-pairs.py'
model = dict(
    backbone=dict(
        type='GloReResNet_CIFAR',
        glore_units='res3x1',
        glore_cfg=dict(type='GloRe2d')))
