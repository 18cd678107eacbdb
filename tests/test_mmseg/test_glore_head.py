# Copyright (c) glore_mm contributors. All rights reserved.
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from glore_mm import GloRe2d
from glore_mm.mmseg import GloReHead

TINY_CFG = osp.join(
    osp.dirname(__file__), '..', 'data', 'configs',
    'tiny_glore_fcn_cityscapes.py')


def open_gate(unit):
    torch.manual_seed(1)
    with torch.no_grad():
        unit.norm.weight.normal_()
        unit.norm.bias.normal_()


def test_glore_head():
    head = GloReHead(in_channels=8, channels=4, num_classes=19)
    assert len(head.convs) == 2
    assert isinstance(head.glore, GloRe2d)
    assert (head.glore.num_state, head.glore.num_node) == (2, 1)
    assert head.glore.normalize
    assert head.glore.norm.eps == 1e-4
    assert hasattr(head, 'conv_cat')
    inputs = [torch.randn(1, 8, 23, 23)]
    outputs = head(inputs)
    assert outputs.shape == (1, head.num_classes, 23, 23)

    head = GloReHead(
        in_channels=8,
        channels=16,
        num_classes=3,
        num_state=6,
        num_node=5,
        normalize=False,
        concat_input=False,
        norm_cfg=dict(type='BN'))
    assert not hasattr(head, 'conv_cat')
    assert (head.glore.num_state, head.glore.num_node) == (6, 5)
    assert not head.glore.normalize
    assert isinstance(head.glore.norm, torch.nn.BatchNorm2d)
    assert head([torch.randn(2, 8, 7, 13)]).shape == (2, 3, 7, 13)


@pytest.mark.parametrize('concat_input', [True, False])
def test_glore_head_composition(concat_input):
    """conv -> unit -> conv -> (concat with the input, conv_cat) ->
    classifier, computed step by step with an open gate."""
    torch.manual_seed(0)
    head = GloReHead(
        in_channels=8, channels=16, num_classes=3,
        concat_input=concat_input).eval()
    open_gate(head.glore)
    x = torch.randn(2, 8, 9, 11)
    with torch.no_grad():
        hidden = head.convs[0](x)
        reasoned = head.glore(hidden)
        assert not torch.allclose(reasoned, hidden)
        hidden = head.convs[1](reasoned)
        if concat_input:
            hidden = head.conv_cat(torch.cat([x, hidden], dim=1))
        expected = head.conv_seg(hidden)  # eval: dropout is the identity
        torch.testing.assert_close(head([x]), expected, rtol=0, atol=0)


def test_glore_head_unit_is_applied_between_the_convs():
    head = GloReHead(in_channels=8, channels=16, num_classes=3).eval()
    x = [torch.randn(1, 8, 9, 11)]
    with torch.no_grad():
        closed = head(x)
        open_gate(head.glore)
        opened = head(x)
    assert not torch.allclose(closed, opened)


@pytest.mark.parametrize('normalize, expected_ratio', [(True, 1.0),
                                                       (False, 4.0)])
def test_whole_image_inference_keeps_the_unit_scale(normalize, expected_ratio):
    """Crop training, whole-image testing: 4x the positions at 1/8 scale.

    A 512x1024 crop gives a 64x128 map, a 1024x2048 image 128x256. With the
    head's default (normalize=True) the unit's contribution keeps its scale;
    summing instead makes it grow with the area.
    """
    head = GloReHead(
        in_channels=8, channels=32, num_classes=19,
        normalize=normalize).eval()
    open_gate(head.glore)
    torch.manual_seed(0)
    crop = torch.randn(1, 32, 64, 128)
    whole = crop.repeat(1, 1, 2, 2)
    with torch.no_grad():
        d_crop = (head.glore(crop) - crop).abs().mean()
        d_whole = (head.glore(whole) - whole).abs().mean()
    assert d_whole / d_crop == pytest.approx(expected_ratio, rel=1e-3)


def test_whole_image_fp16_is_finite():
    head = GloReHead(in_channels=8, channels=64, num_classes=19).eval()
    open_gate(head.glore)
    x = 10 * torch.randn(1, 64, 128, 256)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.float16):
        out = head.glore(x)
    assert torch.isfinite(out).all()


def test_bad_head_arguments():
    with pytest.raises(
            TypeError,
            match=r"unknown argument\(s\) \['foo'\]; "
            r"allowed: \[.*'channels'.*'normalize'"):
        GloReHead(in_channels=8, channels=4, num_classes=3, foo=1)
    with pytest.raises(ValueError, match='exactly two convs.*num_convs=3'):
        GloReHead(in_channels=8, channels=4, num_classes=3, num_convs=3)
    head = GloReHead(in_channels=8, channels=4, num_classes=3)
    with pytest.raises(
            ValueError,
            match=r'in_channels=8 in the config, but '
            r'the backbone output .* has 6 channels'):
        head([torch.randn(1, 6, 5, 5)])


def test_config_errors_name_the_key():
    import glore_mm.mmseg  # noqa: F401 registers the head
    cfg = Config.fromfile(TINY_CFG)
    cfg.model.decode_head.num_nodes = 8
    with pytest.raises(TypeError, match=r"GloReHead.*\['num_nodes'\]"):
        MODELS.build(cfg.model)

    cfg = Config.fromfile(TINY_CFG)
    cfg.model.decode_head.in_channels = 128
    model = MODELS.build(cfg.model)
    with pytest.raises(
            ValueError,
            match='in_channels=128 in the config, '
            'but the backbone output it reads .* has 64'):
        model(torch.randn(1, 3, 32, 64), mode='tensor')
