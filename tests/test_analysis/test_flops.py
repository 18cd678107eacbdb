# Copyright (c) glore_mm contributors. All rights reserved.
"""The project's FLOP counter counts every product of a GloRe unit."""
import math

import pytest
import torch

from glore_mm import GloRe2d, GloRe3d
from glore_mm.analysis import count_complexity, flop_analyzer

CHANNELS = 32  # 16 states, 8 nodes


def analytic_macs(channels, states, nodes, length, batch=1):
    """Multiply-adds of one unit, in whichever order costs less.

    Projection B: K·C·L. Node features and the way back: the paper's order
    (conv on the positions, then B) costs L·S·(C + K) each, the other (B
    first, the conv on the nodes) C·K·(L + S). The graph conv: K·K·S for
    the node mixing and S·S·K for the state mixing.
    """
    paper = length * states * (channels + nodes)
    nodes_first = channels * nodes * (length + states)
    per_image = (nodes * channels * length + 2 * min(paper, nodes_first) +
                 nodes * nodes * states + states * states * nodes)
    return batch * per_image


# (spatial size, whether the nodes-first order is the cheaper one): with
# C=32, S=16, K=8 it is for L >= 11 positions.
SIZES = {
    2: [((2, 3), False), ((7, 13), True)],
    3: [((1, 2, 3), False), ((3, 5, 7), True)],
}


@pytest.mark.parametrize('dims, spatial, nodes_first',
                         [(d, s, f) for d in SIZES for s, f in SIZES[d]])
def test_counted_flops_equal_analytic_macs(dims, spatial, nodes_first):
    unit = (GloRe2d if dims == 2 else GloRe3d)(CHANNELS).eval()
    states, nodes, length = unit.num_state, unit.num_node, math.prod(spatial)
    paper = length * states * (CHANNELS + nodes)
    assert (CHANNELS * nodes * (length + states) < paper) is nodes_first
    x = torch.randn(2, CHANNELS, *spatial)
    with torch.no_grad():
        counted = flop_analyzer(unit, (x, )).total()
    assert counted == analytic_macs(CHANNELS, states, nodes, length, batch=2)


@pytest.mark.parametrize('dims', [2, 3])
def test_count_complexity_reports_the_units(dims):
    unit = (GloRe2d if dims == 2 else GloRe3d)(CHANNELS)
    spatial = SIZES[dims][1][0]
    result = count_complexity(unit, (torch.randn(1, CHANNELS, *spatial), ))
    assert result['num_units'] == 1
    assert result['params'] == result['unit_params'] == sum(
        p.numel() for p in unit.parameters())
    assert result['flops'] == result['unit_flops'] == analytic_macs(
        CHANNELS, unit.num_state, unit.num_node, math.prod(spatial))
    # most of the products are aten::baddbmm, which mmengine alone misses
    assert result['by_operator']['baddbmm'] > result['flops'] / 2
