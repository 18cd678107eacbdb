# Copyright (c) glore_mm contributors. All rights reserved.
"""The configs of the Fashion-MNIST pairs experiment on its 28x112 canvas:
the mmcv NonLocal2d block that GloReResNet_CIFAR inserts at the place of
the GloRe unit starts as the identity, stays so through the backbone's
initialisation, and trains."""
from pathlib import Path

import pytest
import torch
from mmcv.cnn import NonLocal2d
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import MODELS, DefaultScope

CONFIGS = Path(__file__).parents[2] / 'configs' / 'mmpretrain'
STEM = 'resnet18-cifar_fashion-mnist-pairs'
VARIANTS = ('', '_glore-res3x1', '_nonlocal-res3x1')
CANVAS = (28, 112)


def _build(variant: str):
    cfg = Config.fromfile(str(CONFIGS / f'{STEM}{variant}.py'))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every tensor
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return cfg, model


@pytest.mark.parametrize('variant', VARIANTS)
def test_pairs_config_runs_on_the_canvas(variant):
    cfg, model = _build(variant)
    model.eval()
    with torch.no_grad():
        logits = model(torch.rand(2, 1, *CANVAS), mode='tensor')
    assert logits.shape == (2, 2) == (2, cfg.model.head.num_classes)
    assert torch.isfinite(logits).all()


def test_nonlocal_block_starts_as_identity_and_trains():
    _, model = _build('_nonlocal-res3x1')
    backbone = model.backbone
    units = dict(backbone.named_glore_units())
    assert list(units) == ['layer2.1.glore']
    block = units['layer2.1.glore']
    assert isinstance(block, NonLocal2d)
    assert block.in_channels == 16 and block.inter_channels == 8
    # mmcv's zeros_init zeroes the BN after the output conv; the backbone's
    # init (which sets every BN weight to 1) must not switch it on
    assert torch.count_nonzero(block.conv_out.norm.weight) == 0
    assert torch.count_nonzero(block.conv_out.norm.bias) == 0
    x = torch.rand(2, 16, 14, 56)
    for train in (True, False):
        block.train(train)
        with torch.no_grad():
            assert torch.equal(block(x), x)
    block.train()
    block(x).square().sum().backward()
    assert block.conv_out.norm.weight.grad.abs().sum() > 0
    # and the whole network equals the plain one with the same weights
    _, plain = _build('')
    plain.load_state_dict(
        {
            k: v
            for k, v in model.state_dict().items() if '.glore.' not in k
        },
        strict=True)
    model.eval()
    plain.eval()
    inputs = torch.rand(2, 1, *CANVAS)
    with torch.no_grad():
        torch.testing.assert_close(
            model(inputs, mode='tensor'), plain(inputs, mode='tensor'))
