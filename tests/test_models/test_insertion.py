# Copyright (c) glore_mm contributors. All rights reserved.
"""GloRe units inserted into mmpretrain's ResNet, mmseg's ResNetV1c and
mmdet's ResNet."""
import copy
import logging
import re

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule

import glore_mm.mmdet  # noqa: F401
import glore_mm.mmpretrain  # noqa: F401
import glore_mm.mmseg.backbones  # noqa: F401
from glore_mm.models import GloRe2d
from glore_mm.models.insertion import (GloReInsertionMixin, check_placement,
                                       resolve_preset)

SMALL = dict(stem_channels=8, base_channels=8)
# The authors number blocks from 1 (B01, B02, ...) and append units after
# res3 blocks 1, 3 and res4 blocks 1, 3, 5 (ResNet-50) or 6, 12, 18
# (ResNet-101): facebookresearch/GloRe network/resnet{50,101}_3d_gcn_x5.py.
AUTHORS_RES3 = (1, 3)
AUTHORS_RES4 = {50: (1, 3, 5), 101: (6, 12, 18)}


def authors_sites(layer, blocks):
    """Module names of the authors' 1-based blocks: B01 is ``layer.0``."""
    return [f'{layer}.{block - 1}' for block in blocks]


D8 = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
# Backbone args, where the units go, and the blocks that get one.
CASES = {
    'mmpretrain-r18':
    dict(
        scope='mmpretrain',
        type='GloReResNet',
        plain='ResNet',
        args=dict(depth=18, out_indices=(0, 1, 2, 3), **SMALL),
        units=dict(layer3=[1], layer4=[0, -1]),
        sites=['layer3.1', 'layer4.0', 'layer4.1']),
    'mmpretrain-r50':
    dict(
        scope='mmpretrain',
        type='GloReResNet',
        plain='ResNet',
        args=dict(depth=50, out_indices=(0, 1, 2, 3), **SMALL),
        units='paper',
        sites=authors_sites('layer2', AUTHORS_RES3) +
        authors_sites('layer3', AUTHORS_RES4[50])),
    'mmseg-v1c-r18-d8':
    dict(
        scope='mmseg',
        type='GloReResNetV1c',
        plain='ResNetV1c',
        args=dict(depth=18, **SMALL, **D8),
        units=dict(layer3=[-1], layer4=[1]),
        sites=['layer3.1', 'layer4.1']),
    'mmseg-v1c-r50-d8':
    dict(
        scope='mmseg',
        type='GloReResNetV1c',
        plain='ResNetV1c',
        args=dict(depth=50, **SMALL, **D8),
        units='res4x3',
        sites=authors_sites('layer3', AUTHORS_RES4[50])),
    'mmdet-r50':
    dict(
        scope='mmdet',
        type='GloReResNet',
        plain='ResNet',
        args=dict(depth=50, **SMALL),
        units='res4x3',
        sites=authors_sites('layer3', AUTHORS_RES4[50])),
}
SHAPE = (2, 3, 37, 45)


def registry(scope):
    if scope == 'mmpretrain':
        from mmpretrain.registry import MODELS
    elif scope == 'mmdet':
        from mmdet.registry import MODELS
    else:
        from mmseg.registry import MODELS
    return MODELS


def build(case, plain=False, **overrides):
    """Build the backbone of ``case`` (with or without units), seeded."""
    spec = CASES[case]
    # _scope_: other tests may leave another default scope behind.
    cfg = dict(type=spec['plain'], _scope_=spec['scope'], **spec['args'])
    if not plain:
        cfg.update(type=spec['type'], glore_units=spec['units'])
    cfg.update(overrides)
    torch.manual_seed(0)
    return registry(spec['scope']).build(cfg)


def unit_keys(case, state_dict):
    """Keys of ``state_dict`` that belong to the units of ``case``."""
    prefixes = tuple(f'{site}.glore.' for site in CASES[case]['sites'])
    return {k for k in state_dict if k.startswith(prefixes)}


def plain_with_weights_of(case, model):
    """The plain backbone holding ``model``'s weights, units left out."""
    plain = build(case, plain=True)
    state = model.state_dict()
    keys = unit_keys(case, state)
    plain.load_state_dict({k: v for k, v in state.items() if k not in keys})
    return plain


def outputs(model, x):
    out = model(x)
    return out if isinstance(out, (tuple, list)) else (out, )


def gates_are_zero(model):
    units = [unit for _, unit in model.named_glore_units()]
    assert units
    return all(
        torch.count_nonzero(p) == 0 for unit in units
        for p in unit.gate.parameters())


def randomize(model):
    """Give every parameter and BN statistic a distinctive value."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)


@pytest.mark.parametrize('case', CASES)
def test_units_sit_in_their_blocks_and_keep_upstream_keys(case):
    model = build(case)
    sites = CASES[case]['sites']
    assert [n for n, _ in model.named_glore_units()] == \
        [f'{site}.glore' for site in sites]
    for site in sites:
        layer, index = site.split('.')
        assert isinstance(getattr(model, layer)[int(index)].glore, GloRe2d)
    plain_keys = set(build(case, plain=True).state_dict())
    state = model.state_dict()
    assert set(state) - unit_keys(case, state) == plain_keys
    assert unit_keys(case, state)


@pytest.mark.parametrize('mode', ['eval', 'train'])
@pytest.mark.parametrize('case', CASES)
def test_identity_at_start(case, mode):
    model = build(case)
    model.init_weights()
    plain = plain_with_weights_of(case, model)
    getattr(model, mode)()
    getattr(plain, mode)()
    x = torch.randn(SHAPE)
    for out, ref in zip(outputs(model, x), outputs(plain, x), strict=True):
        assert torch.equal(out, ref)


@pytest.mark.parametrize('case', CASES)
def test_gate_zero_after_init_weights(case):
    model = build(case)
    model.init_weights()
    assert gates_are_zero(model)


@pytest.mark.parametrize('case', ['mmpretrain-r18', 'mmpretrain-r50'])
def test_upstream_init_alone_would_switch_units_on(case):
    """Why the mixin's init_weights exists: ResNet's own init_cfg sets every
    BN weight to 1, the units' gates included."""
    model = build(case)
    plain_cls = type(model).plain_class()
    plain_cls.init_weights(model)
    assert not gates_are_zero(model)


def save_plain_checkpoint(case, path):
    plain = build(case, plain=True)
    randomize(plain)
    torch.save({'state_dict': plain.state_dict()}, path)
    return plain


@pytest.mark.parametrize('case', CASES)
def test_plain_checkpoint_through_init_cfg(case, tmp_path):
    path = tmp_path / 'plain.pth'
    plain = save_plain_checkpoint(case, path)
    model = build(case, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    state = model.state_dict()
    for key, value in plain.state_dict().items():
        assert torch.equal(state[key], value), key
    assert gates_are_zero(model)
    model.eval()
    plain.eval()
    x = torch.randn(SHAPE)
    for out, ref in zip(outputs(model, x), outputs(plain, x), strict=True):
        assert torch.equal(out, ref)


@pytest.mark.parametrize('case', CASES)
def test_plain_checkpoint_reports_only_unit_keys_missing(
        case, tmp_path, caplog):
    from mmengine.runner import load_checkpoint
    path = tmp_path / 'plain.pth'
    plain = save_plain_checkpoint(case, path)
    model = build(case)
    model.init_weights()
    result = model.load_state_dict(
        torch.load(path)['state_dict'], strict=False)
    # BN takes a missing num_batches_tracked silently (old checkpoints).
    expected = {
        k
        for k in unit_keys(case, model.state_dict())
        if not k.endswith('num_batches_tracked')
    }
    assert set(result.missing_keys) == expected
    assert result.unexpected_keys == []
    # What load_from and Pretrained report: mmengine's load_checkpoint.
    logger = logging.getLogger('test_insertion')
    with caplog.at_level(logging.WARNING, logger='test_insertion'):
        load_checkpoint(model, str(path), strict=False, logger=logger)
    reported = re.search(r'missing keys in source state_dict: (.*)',
                         caplog.text).group(1)
    assert set(reported.split(', ')) == expected
    assert 'unexpected key' not in caplog.text
    assert gates_are_zero(model)
    assert torch.equal(model.layer1[0].conv1.weight,
                       plain.layer1[0].conv1.weight)


@pytest.mark.parametrize('case', CASES)
def test_checkpoint_with_units_restores_them(case, tmp_path):
    """A trained GloRe model comes back through load_from (load_checkpoint
    after init_weights), units included."""
    from mmengine.runner import load_checkpoint
    trained = build(case)
    randomize(trained)
    path = tmp_path / 'glore.pth'
    torch.save({'state_dict': trained.state_dict()}, path)
    model = build(case)
    model.init_weights()
    load_checkpoint(model, str(path), strict=True)
    for key, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert not gates_are_zero(model)


@pytest.mark.parametrize('case', CASES)
def test_backbone_pretrained_loads_only_plain_weights(case, tmp_path):
    """The backbone's own Pretrained init_cfg is for plain checkpoints: the
    units of a GloRe checkpoint are not taken from it (load_from is)."""
    trained = build(case)
    randomize(trained)
    path = tmp_path / 'glore.pth'
    torch.save({'state_dict': trained.state_dict()}, path)
    model = build(case, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    state = model.state_dict()
    plain_keys = set(state) - unit_keys(case, state)
    for key in plain_keys:
        assert torch.equal(state[key], trained.state_dict()[key]), key
    assert gates_are_zero(model)


@pytest.mark.parametrize('case', CASES)
def test_one_step_switches_units_on(case):
    model = build(case)
    model.init_weights()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(SHAPE)
    torch.manual_seed(2)
    loss = sum(
        nn.functional.mse_loss(out, torch.randn_like(out))
        for out in outputs(model, x))
    loss.backward()
    for name, unit in model.named_glore_units():
        assert torch.count_nonzero(unit.gate.weight.grad) > 0, name
    optimizer.step()
    assert not gates_are_zero(model)
    plain = plain_with_weights_of(case, model)
    model.eval()
    plain.eval()
    with torch.no_grad():
        out, ref = outputs(model, x)[-1], outputs(plain, x)[-1]
    assert not torch.allclose(out, ref)


@pytest.mark.parametrize('case', CASES)
def test_deepcopy_applies_its_own_units(case):
    """EMA hooks deep-copy the model: the copy must apply its own units."""
    model = build(case)
    randomize(model)
    model.eval()
    twin = copy.deepcopy(model)
    x = torch.randn(SHAPE)
    before = outputs(twin, x)[-1]
    assert torch.equal(outputs(model, x)[-1], before)
    for _, unit in model.named_glore_units():
        unit.init_weights()
    assert torch.equal(outputs(twin, x)[-1], before)
    assert not torch.equal(outputs(model, x)[-1], before)


@pytest.mark.parametrize('case', CASES)
def test_registered_in_its_library(case):
    spec = CASES[case]
    cls = registry(spec['scope']).get(spec['type'])
    assert issubclass(cls, GloReInsertionMixin)
    assert cls.plain_class() is registry(spec['scope']).get(spec['plain'])


def test_frozen_stages_freeze_their_units():
    model = build('mmpretrain-r18', frozen_stages=3)
    assert not any(p.requires_grad for p in model.layer3[1].glore.parameters())
    assert all(p.requires_grad for p in model.layer4[1].glore.parameters())
    model.train()
    assert not model.layer3[1].glore.training
    assert model.layer4[1].glore.training


@pytest.mark.parametrize('case',
                         ['mmpretrain-r18', 'mmseg-v1c-r50-d8', 'mmdet-r50'])
def test_unit_norm_follows_backbone_norm_but_trains(case):
    model = build(case, norm_cfg=dict(type='SyncBN', requires_grad=False))
    for name, unit in model.named_glore_units():
        assert isinstance(unit.norm, nn.SyncBatchNorm), name
        assert unit.norm.eps == 1e-4
        assert all(p.requires_grad for p in unit.parameters()), name
    model = build(case, glore_cfg=dict(norm_cfg=dict(type='GN', num_groups=4)))
    for name, unit in model.named_glore_units():
        assert isinstance(unit.norm, nn.GroupNorm), name


def test_syncbn_reverted_for_cpu_keeps_units_working():
    """mmengine's Runner reverts SyncBN to BN off-GPU: units stay hooked."""
    from mmengine.model import revert_sync_batchnorm
    syncbn = dict(norm_cfg=dict(type='SyncBN', requires_grad=True))
    model = revert_sync_batchnorm(build('mmseg-v1c-r50-d8', **syncbn))
    model.init_weights()
    for name, unit in model.named_glore_units():
        assert not isinstance(unit.norm, nn.SyncBatchNorm), name
    plain = revert_sync_batchnorm(
        build('mmseg-v1c-r50-d8', plain=True, **syncbn))
    plain.load_state_dict({
        k: v
        for k, v in model.state_dict().items() if '.glore.' not in k
    })
    x = torch.randn(SHAPE)
    for out, ref in zip(outputs(model, x), outputs(plain, x), strict=True):
        assert torch.equal(out, ref)
    with torch.no_grad():
        for _, unit in model.named_glore_units():
            unit.gate.weight.fill_(1.0)
    assert not torch.equal(outputs(model, x)[-1], outputs(plain, x)[-1])


def zero_based(blocks):
    return tuple(block - 1 for block in blocks)


@pytest.mark.parametrize(
    'depth, preset, expected',
    [
        (50, 'paper',
         dict(
             layer2=zero_based(AUTHORS_RES3),
             layer3=zero_based(AUTHORS_RES4[50]))),
        (50, 'res3x2-res4x3', dict(layer2=(0, 2), layer3=(0, 2, 4))),
        (50, 'res4x3', dict(layer3=(0, 2, 4))),
        (101, 'paper',
         dict(
             layer2=zero_based(AUTHORS_RES3),
             layer3=zero_based(AUTHORS_RES4[101]))),
        (101, 'res4x3', dict(layer3=(5, 11, 17))),
        # ours, not the authors': one unit after the last block of the stage
        (18, 'res4x1', dict(layer3=(1, ))),
        (34, 'res3x1', dict(layer2=(3, ))),
        (101, 'res4x1', dict(layer3=(22, ))),
    ])
def test_presets(depth, preset, expected):
    sizes = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
    layers = dict(
        zip(['layer1', 'layer2', 'layer3', 'layer4'],
            sizes.get(depth, (3, 4, 6, 3))))
    assert check_placement(resolve_preset(preset, depth), layers) == expected
    if depth in (18, 50, 101):
        from mmpretrain.registry import MODELS
        model = MODELS.build(
            dict(
                type='GloReResNet',
                _scope_='mmpretrain',
                depth=depth,
                glore_units=preset,
                **SMALL))
        assert model.glore_units == expected


class _NoStages(BaseModule):
    """A backbone without residual layers."""

    def __init__(self, depth=50):
        super().__init__()
        self.depth = depth
        self.conv = nn.Conv2d(3, 8, 3)


class _GloReNoStages(GloReInsertionMixin, _NoStages):
    pass


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError) as info:
        _GloReNoStages(glore_units=dict(layer1=[0]))
    for part in ['_NoStages', 'res_layers', 'None', 'ResNet']:
        assert part in str(info.value)


MISCONFIGS = [
    # overrides, error, parts of the message
    (dict(glore_units=dict(layer5=[0])), ValueError,
     ['glore_units', "'layer5'", "['layer1', 'layer2', 'layer3', 'layer4']"]),
    (dict(glore_units=dict(layer3=[6])), ValueError,
     ["glore_units['layer3']", 'index 6', '6 blocks', '-6..5']),
    (dict(glore_units=dict(layer3=[-7])), ValueError,
     ["glore_units['layer3']", 'index -7', '-6..5']),
    (dict(glore_units=dict(layer3=[1, -5])), ValueError,
     ["glore_units['layer3']", '[1, -5]', 'layer3.1']),
    (dict(glore_units=dict(layer3=1)), TypeError,
     ["glore_units['layer3']", 'list of block indices', '1']),
    (dict(glore_units=dict(layer3=[1.0])), TypeError,
     ["glore_units['layer3']", 'int', '1.0']),
    (dict(glore_units=['layer3']), TypeError,
     ['glore_units', "['layer3']", "'paper'", "'res4x1'"]),
    (dict(glore_units='nope'), ValueError,
     ["glore_units='nope'", "'paper'", "'res3x2-res4x3'", "'res4x1'"]),
    (dict(depth=18, glore_units='paper'), ValueError,
     ["glore_units='paper'", 'depth=18', '[50, 101]', "'res4x1'"]),
    (dict(depth=34, glore_units='res4x3'), ValueError,
     ["glore_units='res4x3'", 'depth=34', 'explicitly']),
    (dict(
        num_stages=2,
        out_indices=(1, ),
        strides=(1, 2),
        dilations=(1, 1),
        glore_units='res4x1'), ValueError,
     ["glore_units='res4x1'", "'layer3'", "['layer1', 'layer2']"]),
    (dict(glore_cfg=dict(type='GloRe3d')), ValueError,
     ["glore_cfg['type']='GloRe3d'", '3-D unit', "['GloRe2d']"]),
    (dict(glore_cfg=dict(type='NoSuchUnit')), ValueError,
     ["glore_cfg['type']='NoSuchUnit'", "['GloRe2d']"]),
    (dict(glore_cfg=dict(type='GloRe2d', normalise=True)), TypeError,
     ['glore_cfg', "['normalise']", "'normalize'", "'num_node'"]),
    (dict(glore_cfg=dict(in_channels=64)), ValueError,
     ['glore_cfg', 'in_channels', '64']),
    (dict(glore_cfg='GloRe2d'), TypeError, ['glore_cfg', "'GloRe2d'"]),
    (dict(glore_unit=dict(layer3=[1])), TypeError,
     ["'glore_unit'", "'glore_units'", "'glore_cfg'"]),
    (dict(detph=50), TypeError,
     ["'detph'", 'glore_units', "'depth'", "'base_channels'"]),
]


@pytest.mark.parametrize(
    'overrides, error, parts', MISCONFIGS, ids=[str(m[0]) for m in MISCONFIGS])
@pytest.mark.parametrize('case',
                         ['mmpretrain-r50', 'mmseg-v1c-r50-d8', 'mmdet-r50'])
def test_misconfiguration_fails_at_build(case, overrides, error, parts):
    with pytest.raises(error) as info:
        build(case, **overrides)
    message = str(info.value)
    for part in parts:
        assert part in message, (part, message)
