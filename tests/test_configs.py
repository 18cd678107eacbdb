# Copyright (c) glore_mm contributors. All rights reserved.
"""Every config under configs/ builds offline and runs one forward."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from glore_mm.models.layers.glore import GloReNd

CONFIG_ROOT = Path(__file__).parents[1] / 'configs'
CONFIGS = sorted(CONFIG_ROOT.rglob('*.py'))


def _image(cfg, height, width):
    return torch.rand(1, cfg.model.backbone.get('in_channels', 3), height,
                      width)


def _classification(model, cfg):
    """Image -> logits at 64x64 (the ImageNet ResNets are big for a CPU)."""
    logits = model(_image(cfg, 64, 64), mode='tensor')
    assert logits.shape == (1, cfg.model.head.num_classes)
    return logits


def _segmentation(model, cfg):
    """Image -> per-class logits of the decode head at 64x128."""
    logits = model(_image(cfg, 64, 128), mode='tensor')
    assert logits.shape[:2] == (1, cfg.model.decode_head.num_classes)
    return logits


def _recognition(model, cfg):
    """One clip [N, views, C, T, H, W] of 8 frames at 32x32 -> features."""
    channels = cfg.model.backbone.get('in_channels', 3)
    feats = model(torch.rand(1, 1, channels, 8, 32, 32), mode='tensor')
    assert feats.dim() == 5
    assert feats.shape[:2] == (1, cfg.model.cls_head.in_channels)
    return feats


# How to run one forward, by the config's default_scope. A config of a
# library without an entry fails: add its recipe here.
FORWARDS = {
    'mmpretrain': _classification,
    'mmseg': _segmentation,
    'mmaction': _recognition,
}

# The one module per library that registers everything its configs may name
# (it imports glore_mm, which registers the units): every config spells its
# custom_imports with it.
CUSTOM_IMPORTS = {
    'mmpretrain': 'glore_mm.mmpretrain',
    'mmseg': 'glore_mm.mmseg',
    'mmaction': 'glore_mm.mmaction',
}


def _offline(node):
    """Switch pretrained weights off: ``pretrained`` keys that name a file
    become None, ``Pretrained`` init configs are dropped."""
    if isinstance(node, dict):
        if isinstance(node.get('pretrained'), str):
            node['pretrained'] = None
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None
        elif isinstance(init_cfg, list):
            node['init_cfg'] = [
                c for c in init_cfg if c.get('type') != 'Pretrained'
            ] or None
        for value in node.values():
            _offline(value)
    elif isinstance(node, list):
        for value in node:
            _offline(value)


def test_configs_found():
    assert len([c for c in CONFIGS if 'mmpretrain' in c.parts]) >= 7
    assert len([c for c in CONFIGS if 'mmseg' in c.parts]) >= 1


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[str(c.relative_to(CONFIG_ROOT)) for c in CONFIGS])
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(str(path))
    scope = cfg.get('default_scope')
    if scope not in FORWARDS:
        pytest.fail(f'{path.name}: no forward recipe for default_scope '
                    f'{scope!r}; known: {sorted(FORWARDS)}. Add one to '
                    f'FORWARDS in tests/test_configs.py')
    custom_imports = cfg.get('custom_imports', None)
    if custom_imports is not None or 'glore' in path.name:
        assert custom_imports.imports[0] == CUSTOM_IMPORTS[scope]
        assert custom_imports.allow_failed_imports is False
    _offline(cfg.model)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
    model.init_weights()
    units = [m for m in model.modules() if isinstance(m, GloReNd)]
    for unit in units:
        # Identity at start unless the config asks otherwise (an ablation).
        gate_is_zero = all(
            torch.count_nonzero(p) == 0 for p in unit.gate.parameters())
        assert gate_is_zero == unit.zero_init
    model.eval()
    with torch.no_grad():
        out = FORWARDS[scope](model, cfg)
    assert torch.isfinite(out).all()
    if 'glore' in path.name:
        assert units, f'{path.name} names GloRe but builds no GloRe unit'
