# resnet18-cifar_fashion-mnist-pairs.py with one mmcv NonLocal2d block
# (embedded Gaussian, 8 inter channels) at the place of the GloRe unit of
# ..._glore-res3x1.py: after the last block of res3 (layer2.1, 14x56 maps,
# 16 channels). The block starts as the identity: the BN after its output
# conv is zero-initialised (mmcv's zeros_init), and GloReResNet_CIFAR
# re-applies that after the backbone's own initialisation.
_base_ = './resnet18-cifar_fashion-mnist-pairs.py'
model = dict(
    backbone=dict(
        type='GloReResNet_CIFAR',
        glore_units='res3x1',
        glore_cfg=dict(type='NonLocal2d')))
