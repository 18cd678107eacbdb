# Copyright (c) glore_mm contributors. All rights reserved.
"""The machinery of the unit benchmark: blocks, checks, counts."""
import pytest
import torch

from glore_mm.analysis import benchmark_units as bench
from glore_mm.analysis.benchmark import MatmulReference
from glore_mm.analysis.reference import LiteralGloRe


@pytest.mark.parametrize(
    'dims, spatial',
    [
        (2, (7, 13)),
        (3, (3, 5, 7)),
        # fewer positions than C/3: the unit takes the paper's order
        (2, (2, 3)),
        (3, (1, 2, 3)),
    ])
def test_literal_unit_matches_ours(dims, spatial):
    case = bench.Case('t', dims, 2, 64, spatial, ('infer', ))
    summary = bench.check_equal(
        bench.build_blocks(dims, 64, 'cpu'), case, 'cpu')
    assert summary.startswith('ours == literal')


def test_equality_check_catches_a_difference(monkeypatch):
    from_unit = LiteralGloRe.from_unit

    def perturbed(unit):
        literal = from_unit(unit)
        with torch.no_grad():
            literal.conv_extend.weight.mul_(1.01)
        return literal

    monkeypatch.setattr(LiteralGloRe, 'from_unit', perturbed)
    case = bench.Case('t', 2, 2, 32, (5, 6), ('infer', ))
    with pytest.raises(AssertionError, match='differ'):
        bench.check_equal(bench.build_blocks(2, 32, 'cpu'), case, 'cpu')


def test_macs_follow_the_order_the_unit_takes():
    c, s, k, length = 512, 256, 128, 64 * 128
    graph = k * k * s + s * s * k
    big = bench.Case('t', 2, 1, c, (64, 128), ('infer', ))
    # three C x K x L products, the 1x1 convs on the nodes
    assert bench.count_macs('ours', big) == (3 * c * k * length +
                                             2 * s * c * k + graph)
    literal = length * (c * s + c * k + 2 * s * k + s * c) + graph
    assert bench.count_macs('literal', big) == literal
    nonlocal_macs = 4 * c * (c // 2) * length + c * length**2
    assert bench.count_macs('nonlocal', big) == nonlocal_macs
    # with few positions ours takes the paper's order, hence its count
    small = bench.Case('t', 2, 1, c, (4, 4), ('infer', ))
    assert bench.count_macs('ours',
                            small) == bench.count_macs('literal', small)
    with pytest.raises(KeyError, match="block 'other' is not one of"):
        bench.count_macs('other', small)


def test_flop_count_check_agrees_with_the_analytic_count():
    case = bench.Case('t', 2, 2, 32, (8, 16), ('infer', ))
    note = bench.check_flop_count(
        bench.build_blocks(2, 32, 'cpu'), case, 'cpu')
    for name in bench.IMPLS:
        macs = f'{bench.count_macs(name, case) / 1e9:.3f}'
        assert f'{name} {macs} vs {macs}' in note


def test_over_budget_blocks_are_not_run():
    """Non-local's estimate is over the budget: reported, never called."""
    case = bench.Case('t', 2, 1, 16, (8, 8), ('train', ))
    need = bench.estimate_bytes('nonlocal', case, 'train')
    assert need > bench.estimate_bytes('ours', case, 'train')
    blocks = bench.build_blocks(2, 16, 'cpu')
    reference = MatmulReference('cpu', torch.float32, quick=True)
    results, rate = bench.measure_mode(
        blocks,
        torch.randn(case.shape),
        case,
        'train',
        torch.float32,
        repeats=2,
        time_budget=1.0,
        budget=need - 1,
        reference=reference)
    assert list(results) == list(bench.IMPLS)
    assert results['nonlocal'].oom.startswith('OOM: needs ')
    assert results['nonlocal'].seconds is None
    for name in ('ours', 'literal'):
        assert results[name].seconds > 0 and results[name].peak > 0
    assert rate > 0 and len(reference.rates) == 2
