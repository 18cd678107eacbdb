# Copyright (c) glore_mm contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn
from mmengine.registry import MODELS

from glore_mm import GloRe2d, GloRe3d
from glore_mm.analysis.reference import literal_glore, randomize_gate
from glore_mm.models.layers.glore_products import (nodes_first,
                                                   nodes_first_threshold)

UNITS = {2: GloRe2d, 3: GloRe3d}
SHAPES = {2: (2, 16, 7, 13), 3: (2, 16, 3, 5, 7)}


def make_unit(dims, **kwargs):
    torch.manual_seed(0)
    return UNITS[dims](SHAPES[dims][1], **kwargs)


@pytest.mark.parametrize('dims', [2, 3])
@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(normalize=True),
    dict(num_state=5, num_node=3),
    dict(state_ratio=0.75, node_ratio=0.5, with_norm=False),
])
@pytest.mark.parametrize('train', [True, False])
def test_matches_literal_formulas(dims, kwargs, train):
    unit = make_unit(dims, **kwargs).train(train)
    randomize_gate(unit)
    x = torch.randn(SHAPES[dims])
    with torch.no_grad():
        out = unit(x)
        ref = literal_glore(unit, x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
    # the unit really changes the input once its gate is open
    assert (out - x).abs().max() > 1e-2


@pytest.mark.parametrize('dims', [2, 3])
def test_default_sizes_follow_the_paper(dims):
    unit = UNITS[dims](64)
    assert (unit.num_state, unit.num_node) == (32, 16)
    assert isinstance(unit.norm,
                      nn.BatchNorm2d if dims == 2 else nn.BatchNorm3d)
    assert unit.norm.eps == 1e-4
    assert unit.conv_state.bias is not None
    assert unit.conv_proj.bias is not None
    assert unit.gcn.conv_node.bias is not None
    assert unit.gcn.conv_state.bias is None
    assert unit.conv_extend.bias is None


@pytest.mark.parametrize('dims', [2, 3])
@pytest.mark.parametrize(
    'kwargs', [dict(), dict(with_norm=False),
               dict(normalize=True)])
@pytest.mark.parametrize('train', [True, False])
def test_identity_at_init(dims, kwargs, train):
    unit = make_unit(dims, **kwargs).train(train)
    x = torch.randn(SHAPES[dims])
    assert torch.equal(unit(x), x)
    # and it is not an identity by construction: opening the gate changes it
    randomize_gate(unit)
    assert not torch.allclose(unit(x), x)


@pytest.mark.parametrize('dims', [2, 3])
def test_zero_init_off_is_not_identity(dims):
    unit = make_unit(dims, zero_init=False)
    x = torch.randn(SHAPES[dims])
    assert not torch.allclose(unit(x), x)


@pytest.mark.parametrize('dims', [2, 3])
@pytest.mark.parametrize('with_norm', [True, False])
def test_gradients_reach_every_parameter(dims, with_norm):
    unit = make_unit(dims, with_norm=with_norm)
    x = torch.randn(SHAPES[dims], requires_grad=True)
    unit(x).pow(2).sum().backward()
    for name, p in unit.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    gate_grad = sum(p.grad.abs().sum() for p in unit.gate.parameters())
    assert gate_grad > 0
    # after one step on the gate, gradients flow into the whole unit
    with torch.no_grad():
        for p in unit.gate.parameters():
            p -= 0.1 * p.grad
    unit.zero_grad()
    unit(x).pow(2).sum().backward()
    for name, p in unit.named_parameters():
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize('dims', [2, 3])
def test_normalize_keeps_scale_across_input_sizes(dims):
    """With 1/L the output does not grow with the number of positions."""
    unit = make_unit(dims, normalize=True).eval()
    randomize_gate(unit)
    small = torch.randn(SHAPES[dims])
    # the same content tiled 4x in space: node features are means, unchanged
    large = small.repeat(1, 1, *([1] * (dims - 2)), 2, 2)
    with torch.no_grad():
        d_small = (unit(small) - small).abs().mean()
        d_large = (unit(large) - large).abs().mean()
    torch.testing.assert_close(d_large, d_small, rtol=1e-4, atol=0)
    unit.normalize = False
    with torch.no_grad():
        d_large_sum = (unit(large) - large).abs().mean()
    assert d_large_sum > 2 * d_small


def test_fp16_autocast_large_input_stays_finite():
    """A sum over many positions overflows fp16 unless it is normalised.

    Non-negative features, as after a ReLU: node features then grow with
    the number of positions.
    """
    unit = GloRe2d(16, normalize=True).eval()
    randomize_gate(unit)
    x = 20 * torch.rand(1, 16, 128, 256)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.float16):
        out = unit(x)
    assert torch.isfinite(out).all()
    with torch.no_grad():
        ref = unit(x)
    assert torch.isfinite(ref).all()
    torch.testing.assert_close(
        out.float(), ref, rtol=0.05, atol=0.05 * ref.abs().max().item())
    unit.normalize = False
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.float16):
        assert not torch.isfinite(unit(x)).all()


@pytest.mark.parametrize('dims', [2, 3])
def test_bf16_autocast(dims):
    unit = make_unit(dims, normalize=True).eval()
    randomize_gate(unit)
    x = torch.randn(SHAPES[dims])
    with torch.no_grad():
        ref = unit(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = unit(x)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(
        out.float(), ref, rtol=0.05, atol=0.05 * ref.abs().max().item())


@pytest.mark.parametrize('dims', [2, 3])
def test_torchscript_and_fx(dims):
    unit = make_unit(dims, normalize=True).eval()
    randomize_gate(unit)
    x = torch.randn(SHAPES[dims])
    # a different number of positions than the traced one
    x2 = torch.randn(SHAPES[dims][:2] + tuple(s + 2 for s in SHAPES[dims][2:]))
    scripted = torch.jit.script(unit)
    traced = torch.fx.symbolic_trace(unit)
    with torch.no_grad():
        for inp in (x, x2):
            torch.testing.assert_close(scripted(inp), unit(inp))
            torch.testing.assert_close(traced(inp), unit(inp))
    # the input check survives both
    for mod in (scripted, traced):
        with pytest.raises(Exception, match='in_channels=16'):
            mod(torch.randn((2, 8) + SHAPES[dims][2:]))


def test_torch_compile():
    unit = make_unit(2, normalize=True).eval()
    randomize_gate(unit)
    compiled = torch.compile(unit, dynamic=True)
    x = torch.randn(SHAPES[2])
    # more nodes (16) than positions (2x3): the eager-only warning stays out
    few = make_unit(2, num_node=16).eval()
    randomize_gate(few)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), unit(x), rtol=1e-4, atol=1e-4)
        x_few = torch.randn(2, 16, 2, 3)
        torch.testing.assert_close(
            torch.compile(few, dynamic=True)(x_few),
            few(x_few),
            rtol=1e-4,
            atol=1e-4)


@pytest.mark.parametrize('scope',
                         ['mmengine', 'mmseg', 'mmaction', 'mmpretrain'])
@pytest.mark.parametrize('dims', [2, 3])
def test_registry_build_from_every_scope(scope, dims):
    import importlib
    registry = MODELS if scope == 'mmengine' else importlib.import_module(
        f'{scope}.registry').MODELS
    unit = registry.build(
        dict(type=f'GloRe{dims}d', in_channels=16, num_node=6))
    assert type(unit) is UNITS[dims]
    assert unit.num_node == 6


@pytest.mark.parametrize('dims', [2, 3])
def test_build_plugin_layer(dims):
    from mmcv.cnn import build_plugin_layer
    name, unit = build_plugin_layer(
        dict(type=f'GloRe{dims}d', normalize=True),
        postfix='_3',
        in_channels=24)
    assert name == 'glore_3'
    assert isinstance(unit, UNITS[dims])
    assert unit.in_channels == 24 and unit.normalize


@pytest.mark.parametrize('position',
                         ['after_conv1', 'after_conv2', 'after_conv3'])
def test_mmseg_resnet_plugin(position):
    from mmseg.models.backbones import ResNetV1c
    torch.manual_seed(0)
    cfg = dict(
        depth=50,
        base_channels=8,
        stem_channels=8,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4))
    plain = ResNetV1c(**cfg)
    with_units = ResNetV1c(
        plugins=[
            dict(
                cfg=dict(type='GloRe2d'),
                position=position,
                stages=(False, True, True, True))
        ],
        **cfg)
    units = [m for m in with_units.modules() if isinstance(m, GloRe2d)]
    assert len(units) == 4 + 6 + 3
    # ResNet's own init (Constant 1 on every _BatchNorm) keeps gates closed
    with_units.init_weights()
    assert all(u.norm.weight.abs().sum() == 0 for u in units)
    # plain weights load with only the units' keys missing
    missing, unexpected = with_units.load_state_dict(
        plain.state_dict(), strict=False)
    assert unexpected == []
    assert missing and all('glore' in k for k in missing)
    x = torch.randn(1, 3, 33, 47)
    plain.eval(), with_units.eval()
    with torch.no_grad():
        for a, b in zip(plain(x), with_units(x)):
            torch.testing.assert_close(a, b)
    with_units.train()
    outs = with_units(x)
    sum(o.pow(2).mean() for o in outs).backward()
    assert all(u.norm.weight.grad.abs().sum() > 0 for u in units)


@pytest.mark.parametrize('kwargs, exc, message', [
    (dict(in_channels=0), ValueError,
     'in_channels must be positive, but got 0'),
    (dict(in_channels=-4), ValueError, 'in_channels must be positive'),
    (dict(in_channels=8.0), TypeError, 'in_channels must be a positive int'),
    (dict(in_channels=8,
          num_state=0), ValueError, 'num_state must be positive, but got 0'),
    (dict(in_channels=8,
          num_node=-1), ValueError, 'num_node must be positive, but got -1'),
    (dict(in_channels=8,
          num_node=2.5), TypeError, 'num_node must be a positive int or None'),
    (dict(in_channels=8, state_ratio=0), ValueError,
     r'state_ratio must be in \(0, 1\], but got 0'),
    (dict(in_channels=8, node_ratio=1.5), ValueError,
     r'node_ratio must be in \(0, 1\], but got 1.5'),
    (dict(in_channels=2, node_ratio=0.25), ValueError,
     r'node_ratio=0.25 of in_channels=2 leaves no nodes'),
    (dict(in_channels=8, normalize='yes'), TypeError,
     "normalize must be True or False, but got 'yes'"),
    (dict(in_channels=8, norm_cfg='BN'), TypeError,
     'norm_cfg must be None or a dict with a "type" key'),
    (dict(in_channels=8, norm_cfg=dict(type='NoSuchNorm')), KeyError,
     r"norm_cfg type 'NoSuchNorm' is not a layer registered"),
    (dict(in_channels=8, conv_cfg=dict(type='NoSuchConv')), KeyError,
     r"conv_cfg type 'NoSuchConv' is not a layer"),
    (dict(in_channels=8, num_nodes=4), TypeError,
     r"GloRe2d got unknown argument\(s\) \['num_nodes'\]; allowed: "
     r"\['in_channels', 'num_state', 'num_node', "),
    (dict(in_channels=8, num_node=0), ValueError,
     'GloRe2d: num_node must be positive, but got 0'),
])
def test_bad_arguments(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        GloRe2d(**kwargs)


@pytest.mark.parametrize('dims, shape, message', [
    (3, (2, 16, 7, 13), r'GloRe3d expects a 5-D input \[N, C, T, H, W\], '
     r'but got a 4-D tensor of shape \[2, 16, 7, 13\]'),
    (2, (2, 16, 3, 7, 13), r'GloRe2d expects a 4-D input \[N, C, H, W\]'),
    (2, (2, 12, 7, 13), r'GloRe2d was built with in_channels=16, but the '
     r'input has 12 channels'),
    (2, (2, 16, 0, 13), r'every size must be positive'),
])
def test_bad_input(dims, shape, message):
    unit = make_unit(dims)
    with pytest.raises(ValueError, match=message):
        unit(torch.randn(shape))


@pytest.mark.parametrize('dims', [2, 3])
@pytest.mark.parametrize('train', [True, False])
def test_few_positions_match_literal_formulas(dims, train):
    """Fewer positions than C/3: the products keep the paper's order."""
    torch.manual_seed(0)
    unit = UNITS[dims](96, normalize=True).train(train)
    randomize_gate(unit)
    x = torch.randn((2, 96) + (1, 3, 5)[3 - dims:])
    with torch.no_grad():
        torch.testing.assert_close(
            unit(x), literal_glore(unit, x), rtol=1e-4, atol=1e-4)


def randomize_biases(unit: nn.Module) -> None:
    """Give every bias a value, as training does (Xavier zeroes them)."""
    with torch.no_grad():
        for name, p in unit.named_parameters():
            if name.endswith('bias'):
                p.normal_()


def positions_for(unit: nn.Module, nodes_first_order: bool) -> int:
    """A number of positions at which the unit takes the given order."""
    threshold = nodes_first_threshold(unit.in_channels, unit.num_state,
                                      unit.num_node)
    assert threshold is not None and threshold - 1 >= unit.num_node
    return threshold if nodes_first_order else threshold - 1


@pytest.mark.parametrize('dims', [2, 3])
@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(normalize=True),
    dict(num_state=5, num_node=3),
])
@pytest.mark.parametrize('nodes_first_order', [True, False])
@pytest.mark.parametrize('train', [True, False])
def test_trained_biases_match_literal_formulas(dims, kwargs, nodes_first_order,
                                               train):
    """Non-zero biases in both product orders: in the reassociated one the
    state conv's bias reaches the nodes as ``b_s (B 1)^T``, weighted by each
    node's total projection mass."""
    unit = make_unit(dims, **kwargs).train(train)
    randomize_gate(unit)
    randomize_biases(unit)
    assert unit.conv_state.bias.abs().min() > 0
    length = positions_for(unit, nodes_first_order)
    assert nodes_first(unit.in_channels, unit.num_state, unit.num_node,
                       length) == nodes_first_order
    # [N, C, 1, length] or [N, C, 1, 1, length]
    x = torch.randn((2, unit.in_channels) + (1, ) * (dims - 1) + (length, ))
    with torch.no_grad():
        out = unit(x)
        ref = literal_glore(unit, x)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
    # the state conv's bias moves the output: the comparison sees it
    with torch.no_grad():
        unit.conv_state.bias.zero_()
        assert not torch.allclose(unit(x), out, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize('dims', [2, 3])
@pytest.mark.parametrize('train', [True, False])
def test_other_conv_types_run_as_modules(dims, train):
    """A conv that is not torch's plain 1x1 conv is applied as a module."""
    # mmcv's own Conv2d/Conv3d subclasses, registered as 'Conv'/'Conv3d'
    unit = make_unit(
        dims, conv_cfg=dict(type='Conv' if dims == 2 else 'Conv3d'))
    assert not unit.pointwise
    unit.train(train)
    randomize_gate(unit)
    x = torch.randn(SHAPES[dims])
    with torch.no_grad():
        torch.testing.assert_close(
            unit(x), literal_glore(unit, x), rtol=1e-4, atol=1e-4)


def test_fuse_conv_bn():
    """mmcv's fuse_conv_bn folds the gate into conv_extend; same output.

    (mmcv fuses Conv2d only.)
    """
    import copy

    from mmcv.cnn import fuse_conv_bn
    dims = 2
    unit = make_unit(dims).eval()
    randomize_gate(unit)
    fused = fuse_conv_bn(copy.deepcopy(unit))
    assert isinstance(fused.norm, nn.Identity)
    assert fused.conv_extend.bias is not None
    x = torch.randn(SHAPES[dims])
    with torch.no_grad():
        torch.testing.assert_close(fused(x), unit(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('dims', [2, 3])
def test_warns_once_when_nodes_outnumber_positions(dims):
    """A unit with more nodes than positions has a rank-deficient B: one
    warning naming the unit, the numbers and the fix."""
    import warnings
    unit = UNITS[dims](68)  # 17 nodes; sizes used by no other test
    few = torch.randn(1, 68, *(1, 4, 4)[3 - dims:])  # 16 positions
    expected = (rf'GloRe{dims}d\(in_channels=68, num_node=17\) got an input '
                rf'with 16 positions .* fewer than its 17 nodes: .* rank at '
                rf'most 16, so 1 nodes are redundant. Pass num_node <= 16 '
                rf'\(or node_ratio <= 0.235\)')
    with pytest.warns(UserWarning, match=expected):
        unit(few)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        unit(few)  # once
        unit(torch.randn(1, 68, *(1, 4, 5)[3 - dims:]))  # enough positions


@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('dims', [2, 3])
def test_closed_gate_is_exact_identity_under_autocast(dims, dtype, train):
    """Autocast runs the unit's products in half precision; the residual
    path is never rounded: with a closed gate the output is the input,
    bit for bit, in the input's dtype."""
    unit = make_unit(dims, normalize=True).train(train)
    x = torch.randn(SHAPES[dims])
    assert not torch.equal(x.to(dtype).float(), x)  # rounding would show
    with torch.no_grad(), torch.autocast('cpu', dtype=dtype):
        out = unit(x)
    assert out.dtype == x.dtype
    assert torch.equal(out, x)


def test_plugin_typo_names_the_unit():
    """mmcv's plugin builder calls the class directly: the error still names
    the unit and what it takes."""
    from mmcv.cnn import build_plugin_layer
    with pytest.raises(
            TypeError,
            match=r"GloRe3d got unknown argument\(s\) "
            r"\['nodes'\]; allowed: \['in_channels'"):
        build_plugin_layer(dict(type='GloRe3d', nodes=4), in_channels=16)
