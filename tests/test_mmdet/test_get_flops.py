# Copyright (c) glore_mm contributors. All rights reserved.
"""tools/analysis_tools/get_flops.py and glore_mm.analysis on a detector:
the RPN proposes on the inference path, and the units' FLOPs are exactly
their products counted by hand."""
import re
import sys

from mmengine.config import Config

from glore_mm.analysis import analyse_config, config_without_units
from glore_mm.models.layers.glore_products import nodes_first
from tests.test_mmdet.det_runs import DET_CONFIG
from tests.tool_runner import TOOLS, run_tool

TOOL = TOOLS / 'analysis_tools' / 'get_flops.py'


def test_detector_units_cost_their_products():
    cfg = Config.fromfile(str(DET_CONFIG))
    plain_cfg, notes = config_without_units(cfg)
    assert notes == ['model.backbone: GloReResNet -> ResNet']
    full = analyse_config(cfg, (3, 96, 96))
    plain = analyse_config(plain_cfg, (3, 96, 96))
    assert full['num_units'] == 3
    assert full['params'] - plain['params'] == full['unit_params'] > 0
    # The RoI heads ran on the RPN's proposals: RoIAlign and the heads' fcs
    assert full['flops'] > full['by_operator']['conv'] > 0
    assert full['by_operator'].get('linear', 0) > 0
    # By hand: layer3 of a 96x96 input is 6x6 (stride 16) with 128
    # channels, 64 states, 32 nodes: B (K·C·L), the node features and the
    # way back, each a 1x1 conv beside a product with B, in the unit's
    # cheaper order, and the graph conv (K·K·S + S·S·K).
    c, length = 128, 6 * 6
    s, k = c // 2, c // 4
    assert not nodes_first(c, s, k, length)  # so: L·S·(C + K) per pair
    per_unit = (
        k * c * length + 2 * length * s * (c + k) + k * k * s + s * s * k)
    assert full['unit_flops'] == 3 * per_unit


def test_tool_takes_mmdet_shape_by_default():
    result = run_tool([sys.executable, TOOL, DET_CONFIG], cwd=TOOLS)
    out = result.stdout
    assert 'Input shape: (1, 3, 800, 1344)' in out
    assert 'Removed: model.backbone: GloReResNet -> ResNet' in out
    assert re.search(r'^delta +\+[\d.]+M \(\+[\d.]+%\)', out, re.M), out
    assert 'GloRe units in the model: 3,' in out
