# Copyright (c) glore_mm contributors. All rights reserved.
"""Every config under configs/ builds offline and runs one forward; every
config of ours, the test configs included, declares the hooks that make any
tool's run resumable exactly and its checkpoints atomic."""
import sys
from pathlib import Path
from typing import List

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from glore_mm.models.layers.glore import GloReNd
from tests.tool_runner import run_tool

REPO = Path(__file__).parents[1]
CONFIG_ROOT = REPO / 'configs'
TEST_CONFIG_ROOT = REPO / 'tests' / 'data' / 'configs'
# Fragments of other configs (_base_ folders) are no configs of their own.
BASE_DIR = '_base_'


def _configs(root: Path) -> List[Path]:
    return sorted(p for p in root.rglob('*.py') if BASE_DIR not in p.parts)


CONFIGS = _configs(CONFIG_ROOT)
ALL_CONFIGS = CONFIGS + _configs(TEST_CONFIG_ROOT)
# What configs/_base_/glore_runtime.py declares, and the one line each
# config that inherits an upstream config adds.
DECLARED_CUSTOM_HOOKS = ('RandomStateHook', 'TestProgressBarHook')
DECLARED_CHECKPOINT_HOOK = 'AtomicCheckpointHook'


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


def _detection(model, cfg):
    """Image at 64x96 -> the RPN's proposals and the RoI heads' outputs on
    them (class scores, box deltas and, for Mask R-CNN, mask logits)."""
    from mmdet.structures import DetDataSample
    shape = (64, 96)
    sample = DetDataSample(
        metainfo=dict(img_shape=shape, ori_shape=shape, pad_shape=shape))
    roi_outs = model(_image(cfg, *shape), [sample], mode='tensor')[-1]
    cls_score = roi_outs[0]
    assert cls_score.shape[1] == cfg.model.roi_head.bbox_head.num_classes + 1
    return torch.cat([out.flatten() for out in roi_outs])


# How to run one forward, by the config's default_scope. A config of a
# library without an entry fails: add its recipe here.
FORWARDS = {
    'mmpretrain': _classification,
    'mmseg': _segmentation,
    'mmaction': _recognition,
    'mmdet': _detection,
}

# The one module per library that registers everything its configs may name
# (it imports glore_mm, which registers the units): every config spells its
# custom_imports with it.
CUSTOM_IMPORTS = {
    'mmpretrain': 'glore_mm.mmpretrain',
    'mmseg': 'glore_mm.mmseg',
    'mmaction': 'glore_mm.mmaction',
    'mmdet': 'glore_mm.mmdet',
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


@pytest.mark.parametrize(
    'path', ALL_CONFIGS, ids=[str(c.relative_to(REPO)) for c in ALL_CONFIGS])
def test_config_declares_the_hooks(path):
    """Whatever tool runs the config (ours, the upstream train.py and
    test.py, ``mim train``) gets exact resume, atomic checkpoints and the
    progress bar."""
    cfg = Config.fromfile(str(path), import_custom_modules=False)
    hooks = [hook.type for hook in cfg.get('custom_hooks', [])]
    for hook in DECLARED_CUSTOM_HOOKS:
        assert hooks.count(hook) == 1, f'{path.name}: custom_hooks {hooks}'
    assert cfg.default_hooks.checkpoint.type == DECLARED_CHECKPOINT_HOOK
    assert cfg.custom_imports.imports[0] in CUSTOM_IMPORTS.values()


@pytest.mark.parametrize('module', sorted(CUSTOM_IMPORTS.values()))
def test_custom_import_registers_the_hooks(module):
    """A config's one custom_imports module registers the hooks it declares
    (in a fresh process: this one imported glore_mm.engine long ago)."""
    hooks = (*DECLARED_CUSTOM_HOOKS, DECLARED_CHECKPOINT_HOOK)
    code = (f'import {module}\n'
            'from mmengine.registry import HOOKS\n'
            f'print([HOOKS.get(name) is not None for name in {hooks!r}])')
    result = run_tool([sys.executable, '-c', code], cwd=REPO)
    assert result.stdout.strip().splitlines()[-1] == str([True] * len(hooks))
