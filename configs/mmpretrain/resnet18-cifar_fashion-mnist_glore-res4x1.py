# resnet18-cifar_fashion-mnist.py with one GloRe unit after the last block of
# res4 (layer3.1 of ResNet_CIFAR-18, 7x7 maps, 64 channels: 32 states, 16
# nodes). The unit starts as the identity (zero-initialised gate BN).
_base_ = './resnet18-cifar_fashion-mnist.py'
model = dict(
    backbone=dict(
        type='GloReResNet_CIFAR',
        glore_units='res4x1',
        glore_cfg=dict(type='GloRe2d')))
