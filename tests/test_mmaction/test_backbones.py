# Copyright (c) glore_mm contributors. All rights reserved.
"""GloRe units in mmaction's I3D (ResNet3d) and C2D backbones."""
import copy

import pytest
import torch
import torchvision
from mmaction.models.backbones import C2D, ResNet3d
from mmaction.registry import MODELS
from mmengine.registry import DefaultScope
from mmpretrain.models.backbones import ResNet as ResNet2d
from torch import nn

from glore_mm.mmaction import GloReC2D, GloReResNet3d
from glore_mm.models import GloRe2d, GloRe3d

# Small nets: I3D ResNet-50 with 8 base channels, C2D ResNet-18 (C2D has
# no base_channels). 8 frames: the units in layer2/layer3 see T=4.
I3D_KWARGS = dict(
    depth=50,
    base_channels=8,
    pretrained=None,
    pretrained2d=False,
    conv1_stride_t=1,
    pool1_stride_t=1)
C2D_KWARGS = dict(depth=18, pretrained=None)
SMALL_UNITS = dict(layer2=[1], layer3=[1])
# (GloRe class, plain class, arguments, glore_cfg)
NETS = {
    'i3d': (GloReResNet3d, ResNet3d, I3D_KWARGS, None),
    'c2d': (GloReC2D, C2D, C2D_KWARGS, None),
    'c2d-per-frame': (GloReC2D, C2D, C2D_KWARGS, dict(type='GloRe2d')),
}


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny tensors: on a busy shared CPU, a second OpenMP thread only
    waits; restored after this module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _clip(num_clips: int = 2, frames: int = 8, seed: int = 0):
    """Clips [N, C, T, H, W] of odd size 25x23."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(num_clips, 3, frames, 25, 23, generator=generator)


def _build(name: str, glore: bool = True, **kwargs) -> nn.Module:
    glore_cls, plain_cls, base_kwargs, glore_cfg = NETS[name]
    kwargs = {**base_kwargs, **kwargs}
    if not glore:
        return plain_cls(**kwargs)
    kwargs.setdefault('glore_units', SMALL_UNITS)
    return glore_cls(glore_cfg=glore_cfg, **kwargs)


def _unit_keys(model: nn.Module) -> set:
    """State-dict keys of the units that a load reports missing (BN
    accepts state dicts without num_batches_tracked)."""
    return {
        f'{name}.{key}'
        for name, unit in model.named_glore_units()
        for key in unit.state_dict() if 'num_batches_tracked' not in key
    }


def _gates_are_zero(model: nn.Module) -> bool:
    gates = [unit.gate for _, unit in model.named_glore_units()]
    assert gates
    return all(
        torch.count_nonzero(p) == 0 for gate in gates
        for p in gate.parameters())


def _scramble_norms(model: nn.Module) -> None:
    """Random weights in every BN, the units' gates included."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.weight.uniform_(0.5, 1.5)


def _switch_on_gates(model: nn.Module, seed: int = 1) -> None:
    """Give every gate random non-zero weights, as after training."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, unit in model.named_glore_units():
            for param in unit.gate.parameters():
                param.copy_(torch.rand(param.shape, generator=generator) + .5)


def _eval(model: nn.Module) -> nn.Module:
    model.eval()  # mmaction's train() returns None
    return model


@pytest.mark.parametrize('name', list(NETS))
def test_starts_as_the_plain_model_with_its_weights(name):
    torch.manual_seed(0)
    plain = _build(name, glore=False)
    plain.init_weights()
    model = _build(name)
    incompatible = model.load_state_dict(plain.state_dict(), strict=False)
    assert not incompatible.unexpected_keys
    assert set(incompatible.missing_keys) == _unit_keys(model)
    assert len(list(model.named_glore_units())) == 2
    x = _clip()
    for training in (False, True):
        plain.train(training)
        model.train(training)
        with torch.no_grad():
            assert torch.equal(model(x), plain(x)), training


@pytest.mark.parametrize('name', list(NETS))
def test_plain_checkpoint_loads_with_only_unit_keys_missing(name, tmp_path):
    torch.manual_seed(0)
    plain = _build(name, glore=False)
    plain.init_weights()
    path = tmp_path / 'plain.pth'
    torch.save(plain.state_dict(), path)
    model = _build(name)
    state = torch.load(path, map_location='cpu')
    incompatible = model.load_state_dict(state, strict=False)
    assert set(incompatible.missing_keys) == _unit_keys(model)
    assert not incompatible.unexpected_keys
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_i3d_3d_checkpoint_through_pretrained_keeps_gates_zero(tmp_path):
    """ResNet3d's own loading (pretrained2d=False) with units detached."""
    torch.manual_seed(0)
    plain = _build('i3d', glore=False)
    plain.init_weights()
    path = tmp_path / 'plain3d.pth'
    torch.save(plain.state_dict(), path)
    model = _build('i3d', pretrained=str(path))
    _switch_on_gates(model)
    model.init_weights()
    assert _gates_are_zero(model)
    x = _clip()
    with torch.no_grad():
        assert torch.equal(_eval(model)(x), _eval(plain)(x))


@pytest.mark.parametrize('name', list(NETS))
def test_gate_survives_upstream_init_weights(name):
    model = _build(name)
    _scramble_norms(model)
    model.init_weights()
    assert _gates_are_zero(model)
    # the rest of each unit keeps its random initialisation
    for _, unit in model.named_glore_units():
        assert torch.count_nonzero(unit.conv_proj.weight) > 0
    # upstream's initialisation did run: BN weights back to 1 (ResNet3d's
    # loop / C2D's Constant init_cfg)
    assert torch.all(model.layer2[1].conv1.bn.weight == 1)


def test_resnet3d_init_would_switch_the_gate_on():
    """What the mixin prevents: ResNet3d's loop sets every BN to 1."""
    model = _build('i3d')
    _scramble_norms(model)
    ResNet3d._init_weights(model)  # upstream's code, units attached
    assert not _gates_are_zero(model)
    model.init_weights()
    assert _gates_are_zero(model)


def test_i3d_inflates_2d_imagenet_weights_and_keeps_gates_zero(tmp_path):
    """pretrained2d: a torchvision-format ResNet-50 state dict (written by
    mmpretrain's ResNet with 8 base channels) is inflated; gates stay 0."""
    torch.manual_seed(0)
    resnet2d = ResNet2d(depth=50, base_channels=8, stem_channels=8)
    state_2d = resnet2d.state_dict()
    with torch.no_grad():
        for key, value in state_2d.items():
            if value.is_floating_point():
                value.copy_(torch.rand_like(value) + 0.5)
    path = tmp_path / 'resnet50_2d.pth'
    torch.save(state_2d, path)
    model = _build('i3d', pretrained=str(path), pretrained2d=True)
    _switch_on_gates(model)
    model.init_weights()
    assert _gates_are_zero(model)
    # inflated: the 2D kernel repeated over time, divided by its length
    conv3d = model.layer2[1].conv1.conv.weight
    expected = state_2d['layer2.1.conv1.weight'].unsqueeze(2).expand_as(
        conv3d) / conv3d.shape[2]
    torch.testing.assert_close(conv3d, expected)
    # ... including the BN of the block whose output the unit takes
    torch.testing.assert_close(model.layer2[1].conv3.bn.weight,
                               state_2d['layer2.1.bn3.weight'])


def test_c2d_loads_torchvision_weights_and_keeps_gates_zero(tmp_path):
    torch.manual_seed(0)
    state = torchvision.models.resnet18().state_dict()
    path = tmp_path / 'resnet18_tv.pth'
    torch.save(state, path)
    model = _build('c2d', pretrained=str(path))
    _switch_on_gates(model)
    model.init_weights()
    assert _gates_are_zero(model)
    torch.testing.assert_close(model.layer3[1].conv2.conv.weight,
                               state['layer3.1.conv2.weight'])


@pytest.mark.parametrize('name', list(NETS))
def test_units_change_the_output_after_one_step(name):
    torch.manual_seed(0)
    model = _build(name)
    model.init_weights()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x = _clip()
    out = model(x)
    target = torch.randn_like(out)
    nn.functional.mse_loss(out, target).backward()
    for site, unit in model.named_glore_units():
        assert torch.count_nonzero(unit.gate.weight.grad) > 0, site
    optimizer.step()
    assert not _gates_are_zero(model)
    without = copy.deepcopy(model)
    for _, unit in without.named_glore_units():
        unit.init_weights()  # gates back to zero: units are the identity
    with torch.no_grad():
        assert not torch.allclose(_eval(model)(x), _eval(without)(x))


def _block_output(model: nn.Module, x: torch.Tensor, site: str):
    """The output of block ``site`` after its unit, [N*T, C, H, W]."""
    outputs = []
    handle = model.get_submodule(site).register_forward_hook(
        lambda module, args, output: outputs.append(output.clone()))
    with torch.no_grad():
        model(x)
    handle.remove()
    return outputs[0]


@pytest.mark.parametrize('unit_type, mixes_frames', [('GloRe3d', True),
                                                     ('GloRe2d', False)])
def test_c2d_space_time_unit_mixes_frames(unit_type, mixes_frames):
    """Frame 0 of a clip reaches the unit's output on its last frame only
    through a 3-D unit: C2D's blocks are per frame, and its temporal pool
    after layer1 joins frames 0 and 1 only."""
    model = GloReC2D(
        **C2D_KWARGS,
        glore_units=dict(layer2=[1]),
        glore_cfg=dict(type=unit_type))
    model.init_weights()
    _switch_on_gates(model)
    _eval(model)
    x = _clip(num_clips=2, frames=8)
    changed = x.clone()
    changed[:, :, 0] = torch.rand_like(changed[:, :, 0])
    before, after = (
        _block_output(model, clip, 'layer2.1').unflatten(0, (2, -1))
        for clip in (x, changed))
    assert before.shape[1] == 4  # T after the temporal pool
    # the change reaches the unit's block at frame 0 either way
    assert not torch.allclose(before[:, 0], after[:, 0])
    last_changed = not torch.allclose(before[:, -1], after[:, -1])
    assert last_changed == mixes_frames


def test_c2d_unit_reasons_over_each_clip():
    """The unit sees each clip as [C, T, H, W], frames in order, and clips
    of a batch do not mix (eval)."""
    model = GloReC2D(**C2D_KWARGS, glore_units=dict(layer2=[1]))
    model.init_weights()
    _switch_on_gates(model)
    _eval(model)
    block = model.layer2[1]
    inputs = []
    block.relu.register_forward_hook(
        lambda module, args, output: inputs.append(output.clone()))
    x = _clip(num_clips=2, frames=8)
    outputs = _block_output(model, x, 'layer2.1')
    frames = inputs[0]  # block output before its unit: [N*T, C, H, W]
    assert frames.shape == outputs.shape and frames.shape[0] == 2 * 4
    for n in range(2):
        clip = torch.stack([frames[n * 4 + t] for t in range(4)], dim=1)
        with torch.no_grad():
            expected = block.glore(clip[None])[0]  # [C, T, H, W]
        for t in range(4):
            torch.testing.assert_close(outputs[n * 4 + t], expected[:, t])
    with torch.no_grad():
        torch.testing.assert_close(model(x[1:]), model(x)[1:])


def test_c2d_deep_copy_applies_its_own_units():
    """An EMA copy applies its own units; the hooks that apply them live for
    one forward only."""
    model = GloReC2D(**C2D_KWARGS, glore_units=dict(layer2=[1]))
    model.init_weights()
    _eval(model)
    ema = copy.deepcopy(model)
    _switch_on_gates(ema)
    x = _clip()
    with torch.no_grad():
        plain_out = model(x)
        ema_out = ema(x)
        _switch_on_gates(model)
        torch.testing.assert_close(model(x), ema_out)
    assert not torch.allclose(plain_out, ema_out)
    for backbone in (model, ema):
        assert not any(block._forward_hooks
                       for block in backbone.glore_blocks())


# The authors' blocks, counted from 1 as their loops do (modules B01, ...):
# res3 1, 3; res4 1, 3, 5 (ResNet-50) or 6, 12, 18 (ResNet-101), in
# facebookresearch/GloRe network/resnet{50,101}_3d_gcn_x5.py. Block i is our
# 0-based module i - 1; res3/res4 are layer2/layer3.
AUTHORS_BLOCKS = {
    50: dict(layer2=(1, 3), layer3=(1, 3, 5)),
    101: dict(layer2=(1, 3), layer3=(6, 12, 18)),
}


def _authors_sites(depth):
    return [
        f'{layer}.{block - 1}'
        for layer, blocks in AUTHORS_BLOCKS[depth].items() for block in blocks
    ]


@pytest.mark.parametrize('glore_cls', [GloReResNet3d, GloReC2D])
@pytest.mark.parametrize('depth', [50, 101])
def test_paper_placement(glore_cls, depth):
    sites = _authors_sites(depth)
    kwargs = dict(depth=depth, pretrained=None)
    if glore_cls is GloReResNet3d:
        kwargs.update(base_channels=8, pretrained2d=False)
    model = glore_cls(**kwargs)  # glore_units='paper' by default
    units = dict(model.named_glore_units())
    assert list(units) == [f'{site}.glore' for site in sites]
    for site, unit in units.items():
        assert isinstance(unit, GloRe3d)
        block = model.get_submodule(site.rsplit('.', 1)[0])
        assert unit.in_channels == block.conv3.conv.out_channels


@pytest.mark.parametrize('name, norm_cfg, unit_cls, norm_cls', [
    ('i3d', None, GloRe3d, nn.BatchNorm3d),
    ('c2d', None, GloRe3d, nn.BatchNorm3d),
    ('c2d-per-frame', None, GloRe2d, nn.BatchNorm2d),
    ('c2d', dict(type='SyncBN',
                 requires_grad=True), GloRe3d, nn.SyncBatchNorm),
    ('c2d', dict(type='BN2d', requires_grad=False), GloRe3d, nn.BatchNorm3d),
])
def test_gate_norm_follows_the_backbone_and_the_unit(name, norm_cfg, unit_cls,
                                                     norm_cls):
    kwargs = {} if norm_cfg is None else dict(norm_cfg=norm_cfg)
    model = _build(name, **kwargs)
    for _, unit in model.named_glore_units():
        assert type(unit) is unit_cls
        assert isinstance(unit.norm, norm_cls)
        assert unit.norm.eps == 1e-4
        assert all(p.requires_grad for p in unit.parameters())


def test_built_from_mmaction_registry():
    # as a config's default_scope='mmaction' does (another library's scope
    # may be the current one, left by whatever ran before)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(
            dict(type='GloReC2D', **C2D_KWARGS, glore_units=dict(layer3=[-1])))
        unit_3d = MODELS.build(dict(type='GloReResNet3d', **I3D_KWARGS))
    assert isinstance(model, GloReC2D) and isinstance(model, C2D)
    assert [n for n, _ in model.named_glore_units()] == ['layer3.1.glore']
    model = unit_3d
    assert isinstance(model, ResNet3d)
    assert len(list(model.named_glore_units())) == 5


def test_bad_unit_types_raise():
    with pytest.raises(ValueError, match=r"GloRe2d'.*2-D unit.*3-D"):
        GloReResNet3d(**I3D_KWARGS, glore_cfg=dict(type='GloRe2d'))
    with pytest.raises(ValueError, match="'NoSuchUnit' is not a registered"):
        GloReC2D(**C2D_KWARGS, glore_cfg=dict(type='NoSuchUnit'))
