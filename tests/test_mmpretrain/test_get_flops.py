# Copyright (c) glore_mm contributors. All rights reserved.
"""tools/analysis_tools/get_flops.py and glore_mm.analysis behind it."""
import copy
import re
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS

from glore_mm.analysis import (analyse_config, config_without_units,
                               remove_units)
from tests.tiny_runs import CLS_CONFIG
from tests.tool_runner import REPO, TOOLS, run_tool

TOOL = TOOLS / 'analysis_tools' / 'get_flops.py'


@pytest.fixture(scope='module')
def tiny_cfg():
    # Built under the model's own _scope_, whatever the default scope.
    return Config.fromfile(str(CLS_CONFIG))


def test_remove_units_gives_the_upstream_backbone(tiny_cfg):
    from mmpretrain.models.backbones import ResNet
    plain_cfg, notes = remove_units(tiny_cfg.model)
    assert plain_cfg.backbone.type is ResNet
    assert not any(k.startswith('glore') for k in plain_cfg.backbone)
    assert notes == ['model.backbone: GloReResNet -> ResNet']
    assert tiny_cfg.model.backbone.type == 'GloReResNet'


def test_remove_units_drops_glore_plugins():
    cfg = dict(
        _scope_='mmseg',
        type='EncoderDecoder',
        backbone=dict(
            type='ResNetV1c',
            plugins=[
                dict(
                    cfg=dict(type='GloRe2d'),
                    stages=(0, 0, 0, 1),
                    position='after_conv3'),
                dict(
                    cfg=dict(type='ContextBlock', ratio=0.25),
                    stages=(0, 0, 1, 1),
                    position='after_conv3'),
            ]))
    plain_cfg, notes = remove_units(cfg)
    assert [p['cfg']['type'] for p in plain_cfg['backbone']['plugins']] == \
        ['ContextBlock']
    assert notes == ['model.backbone.plugins: dropped 1 GloRe entry']


def test_delta_is_the_units_cost(tiny_cfg):
    plain_cfg, _ = config_without_units(tiny_cfg)
    full = analyse_config(tiny_cfg, (3, 32, 32))
    plain = analyse_config(plain_cfg, (3, 32, 32))
    model = MODELS.build(copy.deepcopy(tiny_cfg.model))
    units = [unit for _, unit in model.backbone.named_glore_units()]
    assert full['num_units'] == len(units) == 3
    unit_params = sum(p.numel() for u in units for p in u.parameters())
    assert full['params'] - plain['params'] == unit_params
    assert full['unit_params'] == unit_params
    assert plain['params'] == sum(
        p.numel()
        for p in MODELS.build(copy.deepcopy(plain_cfg.model)).parameters())
    assert full['flops'] - plain['flops'] == full['unit_flops'] > 0
    # Every product of the units, by hand: layer3 of a 32x32 input is 2x2,
    # few positions, so each unit takes the paper's order: B (K·C·L), the
    # node features and the way back (L·S·(C + K) each), the graph conv
    # (K·K·S + S·S·K).
    c, length = 128, 2 * 2
    s, k = c // 2, c // 4
    per_unit = (
        k * c * length + 2 * length * s * (c + k) + k * k * s + s * s * k)
    assert full['unit_flops'] == len(units) * per_unit


def test_tool_prints_both_builds_and_delta():
    out = run_tool([
        sys.executable, TOOL, CLS_CONFIG, '--shape', 32, 32, '--cfg-options',
        'model.backbone.glore_units.layer3=[5]'
    ],
                   cwd=REPO).stdout
    assert 'Input shape: (1, 3, 32, 32)' in out
    for row in ('with units', 'without units', 'delta'):
        assert re.search(rf'^{row} +\+?[\d.]+M', out, re.M), out
    assert re.search(r'^delta +\+[\d.]+M \(\+[\d.]+%\) +\+[\d.]+G', out,
                     re.M), out
    assert 'Removed: model.backbone: GloReResNet -> ResNet' in out
    # --cfg-options reached the model: one unit instead of three.
    assert 'GloRe units in the model: 1,' in out
