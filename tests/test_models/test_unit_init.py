# Copyright (c) glore_mm contributors. All rights reserved.
"""The authors' initialisation of the unit, and that it survives every
parent's initialisation and pretrained loading.

The authors give every conv of the unit Xavier-uniform weights (gain 1) and
zero biases, then zero the gate BN's weight (facebookresearch/GloRe,
``network/initializer.py`` lines 16-23, ``network/resnet50_3d_gcn_x5.py``
lines 169 and 182-186). Each check below records the values that
``torch.nn.init.xavier_uniform_`` wrote, and requires every weight of every
unit to still hold them after the parent's ``init_weights``: nothing
overwrote them later.
"""
import logging
import math
import re
from contextlib import contextmanager
from typing import Iterator, List

import pytest
import torch

import glore_mm.mmaction  # noqa: F401
import glore_mm.mmdet  # noqa: F401
import glore_mm.mmpretrain  # noqa: F401
import glore_mm.mmseg  # noqa: F401
from glore_mm import GloRe2d, GloRe3d
from glore_mm.models import glore_units_of


@pytest.fixture
def xavier_writes(monkeypatch):
    """``{id(tensor): (tensor, value written)}`` of every Xavier-uniform
    initialisation while the test runs."""
    writes = {}
    original = torch.nn.init.xavier_uniform_

    def record(tensor, gain=1.0, **kwargs):
        out = original(tensor, gain=gain, **kwargs)
        writes[id(tensor)] = (tensor, tensor.detach().clone(), gain)
        return out

    monkeypatch.setattr(torch.nn.init, 'xavier_uniform_', record)
    return writes


def unit_convs(unit):
    return {
        'conv_state': unit.conv_state,
        'conv_proj': unit.conv_proj,
        'gcn.conv_node': unit.gcn.conv_node,
        'gcn.conv_state': unit.gcn.conv_state,
        'conv_extend': unit.conv_extend,
    }


def assert_authors_init(unit, writes, where=''):
    """Xavier-uniform weights as last written, zero biases, zero gate."""
    for name, conv in unit_convs(unit).items():
        label = f'{where}.{name}'
        assert id(conv.weight) in writes, f'{label}: never Xavier-initialised'
        _, written, gain = writes[id(conv.weight)]
        assert gain == 1
        assert torch.equal(conv.weight, written), \
            f'{label}: overwritten after its Xavier initialisation'
        fan_out, fan_in = conv.weight.shape[:2]
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert conv.weight.abs().max() <= bound, label
        if conv.bias is not None:
            assert torch.count_nonzero(conv.bias) == 0, label
    for param in unit.gate.parameters():
        assert torch.count_nonzero(param) == 0, f'{where}: gate not zero'


@pytest.mark.parametrize('unit_cls', [GloRe2d, GloRe3d])
def test_unit_starts_with_the_authors_init(unit_cls, xavier_writes):
    unit = unit_cls(48)
    assert_authors_init(unit, xavier_writes)
    # the gate BN before zeroing: weight 1 and bias 0, as the authors'
    # initialiser leaves it; with zero_init off it stays so
    open_unit = unit_cls(48, zero_init=False)
    assert torch.equal(open_unit.norm.weight, torch.ones(48))
    assert torch.count_nonzero(open_unit.norm.bias) == 0


@pytest.mark.parametrize('unit_cls', [GloRe2d, GloRe3d])
def test_init_weights_restores_the_authors_init(unit_cls, xavier_writes):
    unit = unit_cls(48)
    with torch.no_grad():
        for param in unit.parameters():
            param.normal_()
    unit.init_weights()
    assert_authors_init(unit, xavier_writes)


@pytest.mark.parametrize('unit_cls', [GloRe2d, GloRe3d])
def test_pytorch_init_for_studies(unit_cls, xavier_writes):
    """conv_init='pytorch': each conv's own reset_parameters (Kaiming-
    uniform, a=sqrt(5): weights and biases within 1/sqrt(fan_in))."""
    unit = unit_cls(48, conv_init='pytorch')
    assert not xavier_writes
    for name, conv in unit_convs(unit).items():
        bound = 1 / math.sqrt(conv.weight.shape[1])
        assert conv.weight.abs().max() <= bound, name
        # Xavier's bound is larger: the scheme really differs
        xavier = math.sqrt(6 / sum(conv.weight.shape[:2]))
        assert conv.weight.abs().max() < xavier
        if conv.bias is not None:
            assert torch.count_nonzero(conv.bias) > 0, name
            assert conv.bias.abs().max() <= bound, name
    x = torch.randn(2, 48, *(5, 6, 7)[3 - unit.spatial_dims:])
    assert torch.equal(unit.eval()(x), x)
    assert 'conv_init=\'pytorch\'' in repr(unit)


def test_conv_init_is_checked():
    with pytest.raises(
            ValueError,
            match=r"GloRe2d: conv_init must be one "
            r"of \['xavier', 'pytorch'\], but got 'kaiming'"):
        GloRe2d(16, conv_init='kaiming')


# Small backbones of every library. mmpretrain's, mmseg's and mmdet's ResNets
# set Kaiming convs and BN weights of 1 in their init_cfg (mmdet's blocks then
# zero their last BN), mmaction's ResNet3d sets every BN weight to 1 in its
# own loop: all of it would reach the units if nothing kept it away.
SMALL_2D = dict(depth=18, stem_channels=8, base_channels=8)
BACKBONES = {
    'mmpretrain': ('mmpretrain', 'GloReResNet', 'ResNet', SMALL_2D),
    'mmseg': ('mmseg', 'GloReResNetV1c', 'ResNetV1c', SMALL_2D),
    'mmdet': ('mmdet', 'GloReResNet', 'ResNet', SMALL_2D),
    'mmaction-i3d': ('mmaction', 'GloReResNet3d', 'ResNet3d',
                     dict(depth=50, base_channels=8, pretrained2d=False)),
    'mmaction-c2d':
    ('mmaction', 'GloReC2D', 'C2D', dict(depth=18,
                                         torchvision_pretrain=False)),
}
UNITS = dict(layer2=[0], layer3=[-1])


def build(scope, type_name, **kwargs):
    from mmengine.registry import MODELS
    with MODELS.switch_scope_and_registry(scope) as registry:
        return registry.build(dict(type=type_name, **kwargs))


def plain_checkpoint(tmp_path, scope, plain_type, args):
    """A plain backbone, initialised and scrambled, saved as a checkpoint;
    returns its path and state dict."""
    if scope == 'mmaction':
        args = dict(args, pretrained=None)
    plain = build(scope, plain_type, **args)
    plain.init_weights()
    torch.manual_seed(3)
    with torch.no_grad():
        for param in plain.parameters():
            param.add_(torch.randn_like(param))
    state = plain.state_dict()
    path = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=state), path)
    return path, state


@pytest.mark.parametrize(
    'pretrained', [False, True], ids=['upstream-init', 'plain-checkpoint'])
@pytest.mark.parametrize('name', list(BACKBONES))
def test_units_keep_the_authors_init_in_every_backbone(name, pretrained,
                                                       tmp_path,
                                                       xavier_writes):
    scope, glore_type, plain_type, args = BACKBONES[name]
    kwargs = dict(args, glore_units=UNITS)
    if pretrained:
        path, state = plain_checkpoint(tmp_path, scope, plain_type, args)
        if scope == 'mmaction':
            kwargs['pretrained'] = str(path)
        else:
            kwargs['init_cfg'] = dict(type='Pretrained', checkpoint=str(path))
    elif scope == 'mmaction':
        kwargs['pretrained'] = None
    model = build(scope, glore_type, **kwargs)
    with torch.no_grad():  # as a trained unit would be
        for _, unit in model.named_glore_units():
            for param in unit.parameters():
                param.normal_()
    model.init_weights()
    units = dict(model.named_glore_units())
    assert len(units) == 2
    for where, unit in units.items():
        assert_authors_init(unit, xavier_writes, where)
    if pretrained:  # and the upstream weights are the checkpoint's
        loaded = model.state_dict()
        for key, value in state.items():
            assert torch.equal(loaded[key], value), key


def test_glore_head_unit_keeps_the_authors_init(tmp_path, xavier_writes):
    """GloReHead: after the segmentor's init_weights, with a plain FCN
    checkpoint loaded into the whole model, and with an init_cfg of the
    head that would re-initialise every conv."""
    from mmseg.registry import MODELS

    def segmentor(head_type, **head):
        return dict(
            type='EncoderDecoder',
            _scope_='mmseg',
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                stem_channels=8,
                base_channels=8,
                out_indices=(3, )),
            decode_head=dict(
                type=head_type,
                in_channels=64,
                in_index=0,
                channels=16,
                num_classes=3,
                concat_input=True,
                **head))

    fcn = MODELS.build(segmentor('FCNHead', num_convs=2))
    fcn.init_weights()
    path = tmp_path / 'fcn.pth'
    torch.save(dict(state_dict=fcn.state_dict()), path)
    for cfg in (segmentor('GloReHead'),
                dict(
                    segmentor('GloReHead'),
                    init_cfg=dict(type='Pretrained', checkpoint=str(path))),
                segmentor(
                    'GloReHead', init_cfg=dict(type='Kaiming',
                                               layer='Conv2d'))):
        model = MODELS.build(cfg)
        with torch.no_grad():
            for param in model.decode_head.glore.parameters():
                param.normal_()
        model.init_weights()
        assert_authors_init(model.decode_head.glore, xavier_writes, 'head')
        if 'init_cfg' in cfg:
            # the FCN's weights loaded into the rest of the head
            assert torch.equal(model.decode_head.conv_seg.weight,
                               fcn.decode_head.conv_seg.weight)


# Plugin hosts: scope, ResNet type, the first conv (from the checkpoint).
PLUGIN_HOSTS = {
    'mmseg': ('mmseg', 'ResNetV1c', 'stem.0'),  # deep stem
    'mmdet': ('mmdet', 'ResNet', 'conv1'),
}


@pytest.mark.parametrize('name', list(PLUGIN_HOSTS))
def test_plugin_unit_keeps_the_authors_init(name, tmp_path, xavier_writes):
    """GloRe2d as an mmcv plugin of a ResNet-50: the ResNet's init_cfg
    reaches the unit first, the unit's own init_weights last."""
    from mmengine.registry import MODELS
    scope, resnet, first_conv = PLUGIN_HOSTS[name]
    args = dict(
        type=resnet,
        _scope_=scope,
        depth=50,
        stem_channels=8,
        base_channels=8,
        plugins=[
            dict(
                cfg=dict(type='GloRe2d'),
                stages=(False, False, False, True),
                position='after_conv3')
        ])
    model = MODELS.build(args)
    model.init_weights()
    units = glore_units_of(model)
    assert len(units) == 3
    for where, unit in units.items():
        assert_authors_init(unit, xavier_writes, where)
    # a plain ResNet checkpoint: only the units' keys missing
    plain = MODELS.build(dict(args, plugins=None))
    path = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=plain.state_dict()), path)
    model = MODELS.build(
        dict(args, init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    for where, unit in glore_units_of(model).items():
        assert_authors_init(unit, xavier_writes, where)
    assert torch.equal(
        model.get_submodule(first_conv).weight,
        plain.get_submodule(first_conv).weight)


@contextmanager
def mmengine_log() -> Iterator[List[str]]:
    """The messages of MMEngine's current logger while the body runs."""
    from mmengine.logging import MMLogger
    messages: List[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize('name', ['mmpretrain', 'mmseg', 'mmdet'])
def test_backbone_pretrained_with_unit_keys_leaves_the_units_alone(
        name, tmp_path, xavier_writes):
    """A backbone ``Pretrained`` init_cfg is for plain checkpoints: the
    units' keys in it are not loaded, and the load reports them as
    unexpected (a trained GloRe model is loaded with load_from or a
    Pretrained init_cfg of the whole model)."""
    scope, glore_type, _, args = BACKBONES[name]
    trained = build(scope, glore_type, **args, glore_units=UNITS)
    torch.manual_seed(4)
    with torch.no_grad():
        for param in trained.parameters():
            param.normal_()
    path = tmp_path / 'with_units.pth'
    torch.save(dict(state_dict=trained.state_dict()), path)
    model = build(
        scope,
        glore_type,
        **args,
        glore_units=UNITS,
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with mmengine_log() as messages:
        model.init_weights()
    (report, ) = [m for m in messages if 'unexpected key' in m]
    reported = re.search(r'unexpected key in source state_dict: (.*)',
                         report).group(1).split(', ')
    assert sorted(reported) == sorted(k for k in trained.state_dict()
                                      if '.glore.' in k)
    state, loaded = trained.state_dict(), model.state_dict()
    for key in loaded:
        if '.glore.' in key:
            continue
        assert torch.equal(loaded[key], state[key]), key
    for where, unit in model.named_glore_units():
        assert_authors_init(unit, xavier_writes, where)
        assert not torch.equal(unit.conv_state.weight,
                               state[f'{where}.conv_state.weight'])
