# An ablation: resnet18-cifar_fashion-mnist_glore-res4x1.py with the unit's
# zero-initialised gate switched off (the gate BN starts at weight 1), so the
# unit adds its graph-reasoning output to the features from the first step.
_base_ = './resnet18-cifar_fashion-mnist_glore-res4x1.py'
model = dict(backbone=dict(glore_cfg=dict(zero_init=False)))
