# Copyright (c) glore_mm contributors. All rights reserved.
"""GloRe in mmdet's ResNet two ways: units after whole blocks (GloReResNet,
GloReResNeXt) and GloRe2d as an mmcv plugin inside every bottleneck of a
stage (mmdet's ``plugins=``). Both start as the identity."""
import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

import glore_mm.mmdet  # noqa: F401
import glore_mm.mmpretrain  # noqa: F401
from glore_mm.models import GloRe2d, glore_units_of

SMALL = dict(_scope_='mmdet', depth=50, stem_channels=8, base_channels=8)
SHAPE = (2, 3, 41, 53)


def _scrambled(model):
    """``model`` with random weights and BN statistics, gates kept zero."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if '.norm.' not in name or 'glore' not in name:
                param.normal_(0, 0.1)
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_var.uniform_(0.5, 2)
    model.eval()  # mmdet's ResNet.train returns None
    return model


def _plain_twin(model, **plain_args):
    """The plain ResNet holding ``model``'s weights, units left out."""
    plain = MMDET_MODELS.build(dict(type='ResNet', **SMALL, **plain_args))
    state = {k: v for k, v in model.state_dict().items() if 'glore' not in k}
    plain.load_state_dict(state)
    plain.eval()
    return plain


def test_plugin_units_inside_the_bottlenecks_start_as_identity():
    plugins = [
        dict(
            cfg=dict(type='GloRe2d'),
            stages=(False, False, True, False),
            position='after_conv3')
    ]
    model = MMDET_MODELS.build(dict(type='ResNet', **SMALL, plugins=plugins))
    model.init_weights()
    units = glore_units_of(model)
    # one unit in each of the 6 bottlenecks of res4, before the residual add
    assert list(units) == [f'layer3.{i}.glore' for i in range(6)]
    assert all(isinstance(u, GloRe2d) for u in units.values())
    assert all(torch.count_nonzero(u.gate.weight) == 0 for u in units.values())
    model = _scrambled(model)
    plain = _plain_twin(model)
    x = torch.randn(SHAPE)
    for out, ref in zip(model(x), plain(x), strict=True):
        assert torch.equal(out, ref)
    with torch.no_grad():
        next(iter(units.values())).gate.weight.fill_(1)
    assert not torch.equal(model(x)[2], plain(x)[2])


@pytest.mark.parametrize('mode', ['train', 'eval'])
def test_resnext_units_start_as_identity(mode):
    model = MMDET_MODELS.build(
        dict(
            type='GloReResNeXt',
            groups=4,
            base_width=4,
            glore_units='paper',
            **SMALL))
    model.init_weights()
    assert [n for n, _ in model.named_glore_units()] == [
        'layer2.0.glore', 'layer2.2.glore', 'layer3.0.glore', 'layer3.2.glore',
        'layer3.4.glore'
    ]
    plain = MMDET_MODELS.build(
        dict(type='ResNeXt', groups=4, base_width=4, **SMALL))
    plain.load_state_dict({
        k: v
        for k, v in model.state_dict().items() if '.glore.' not in k
    })
    getattr(model, mode)()
    getattr(plain, mode)()
    x = torch.randn(SHAPE)
    for out, ref in zip(model(x), plain(x), strict=True):
        assert torch.equal(out, ref)


def test_one_name_two_libraries():
    """mmdet's and mmpretrain's GloReResNet share a name, not a registry:
    each config's scope finds its own."""
    det = MMDET_MODELS.get('GloReResNet')
    cls = MMPRETRAIN_MODELS.get('GloReResNet')
    assert det is not cls
    assert det.plain_class().__module__.startswith('mmdet.')
    assert cls.plain_class().__module__.startswith('mmpretrain.')
    assert MMDET_MODELS.build(dict(type='GloReResNet', **SMALL)).__class__ \
        is det


@pytest.mark.parametrize('norm_eval', [True, False])
def test_norm_eval_covers_the_gates(norm_eval):
    """mmdet's BN configs keep the backbone's BN in eval mode while
    training, the units' gates included (docs/detection.md)."""
    model = MMDET_MODELS.build(
        dict(
            type='GloReResNet',
            glore_units='res4x3',
            norm_eval=norm_eval,
            **SMALL))
    model.train()
    gates = [unit.norm for _, unit in model.named_glore_units()]
    assert len(gates) == 3
    assert all(gate.training is not norm_eval for gate in gates)
    assert model.layer1[0].bn1.training is not norm_eval
