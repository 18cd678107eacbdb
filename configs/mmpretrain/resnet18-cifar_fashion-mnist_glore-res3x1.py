# resnet18-cifar_fashion-mnist.py with one GloRe unit after the last block of
# res3 (layer2.1 of ResNet_CIFAR-18, 14x14 maps, 32 channels: 16 states, 8
# nodes). The unit starts as the identity (zero-initialised gate BN).
_base_ = './resnet18-cifar_fashion-mnist.py'
model = dict(
    backbone=dict(
        type='GloReResNet_CIFAR',
        glore_units='res3x1',
        glore_cfg=dict(type='GloRe2d')))
