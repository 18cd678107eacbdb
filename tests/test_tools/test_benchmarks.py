# Copyright (c) glore_mm contributors. All rights reserved.
"""The benchmark tools run end to end (quick mode) and report honestly.

No timing is asserted: the numbers depend on the machine and its load.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools' / 'analysis_tools'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# Quick sizes: Non-local's training call on the largest sweep size
# (1 x 16 x 32 x 32, 1024 positions) is estimated at 13 MB, every other call
# below 3.5 MB: this budget makes only that one OOM.
MEM_LIMIT_GB = 0.005


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        filter(None, [str(REPO), env.get('PYTHONPATH')]))
    return subprocess.run(
        [sys.executable, str(TOOLS / tool), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)


def _table_header(columns) -> str:
    return '| ' + ' | '.join(columns) + ' |'


@pytest.fixture(scope='module')
def units_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench_units')
    result = _run('benchmark_units.py', '--quick', '--threads', '1',
                  '--mem-limit-gb', str(MEM_LIMIT_GB), '--out-dir', str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout


def test_units_tables(units_run):
    out, stdout = units_run
    bench = _load('benchmark_units')
    text = (out / 'benchmark_units.md').read_text()
    for columns in (bench.RESULT_COLUMNS, bench.RATIO_COLUMNS):
        assert _table_header(columns) in stdout
        assert _table_header(columns) in text
    # one row per size and block, every block measured at the first size
    rows = [line for line in text.splitlines() if line.startswith('| head')]
    blocks = [row.split('|')[2].strip() for row in rows[:3]]
    assert blocks == ['ours', 'literal', 'nonlocal']
    for row in rows[:3]:
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert len(cells) == len(bench.RESULT_COLUMNS)
        assert float(cells[4]) > 0 and float(cells[5]) > 0
    # the machine and the command are recorded
    assert 'Command: `python tools/analysis_tools/benchmark_units.py' in text
    assert 'threads 1' in text and 'GMAC/s' in text


def test_units_results_and_oom(units_run):
    out, _ = units_run
    data = json.loads((out / 'benchmark_units.json').read_text())
    results = data['results']
    assert {r['block'] for r in results} == {'ours', 'literal', 'nonlocal'}
    big = [r for r in results if r['positions'] == 1024]
    blocks = {'ours', 'literal', 'nonlocal'}
    pairs = {(r['block'], r['mode']) for r in big}
    assert pairs == {(b, 'train') for b in blocks}
    for r in big:
        if r['block'] == 'nonlocal':
            # estimated, not run, and said so
            assert r['oom'].startswith('OOM: needs '), r
            assert r['seconds'] is None and r['peak_bytes'] is None
        else:
            assert r['oom'] is None and r['seconds'] > 0
            assert r['peak_bytes'] > 0
    # below the budget, Non-local runs
    small = [
        r for r in results
        if r['block'] == 'nonlocal' and r['positions'] == 256
    ]
    assert small and all(r['oom'] is None for r in small)
    # the table says it too
    text = (out / 'benchmark_units.md').read_text()
    assert 'OOM: needs 0.0122 GiB (budget 0.005)' in text


def test_units_plot_is_a_png(units_run):
    out, _ = units_run
    path = out / 'benchmark_units.png'
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b'IHDR'
    import matplotlib.image
    image = matplotlib.image.imread(str(path))
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    # atomic writes leave no temporary files behind
    assert sorted(p.name for p in out.iterdir()) == [
        'benchmark_units.json', 'benchmark_units.md', 'benchmark_units.png'
    ]


def test_units_equality_check_reported(units_run):
    _, stdout = units_run
    assert 'ours == literal on 2x32x8x16' in stdout
    assert 'ours == literal on 2x32x2x4x4' in stdout
    assert 'mmengine FlopAnalyzer vs analytic' in stdout


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
    bench = _load('benchmark_units')
    case = bench.Case('t', dims, 2, 64, spatial, ('infer', ))
    summary = bench.check_equal(
        bench.build_blocks(dims, 64, 'cpu'), case, 'cpu')
    assert summary.startswith('ours == literal')


def test_equality_check_catches_a_difference(monkeypatch):
    bench = _load('benchmark_units')
    from_unit = bench.LiteralGloRe.from_unit

    def perturbed(unit):
        literal = from_unit(unit)
        with torch.no_grad():
            literal.conv_extend.weight.mul_(1.01)
        return literal

    monkeypatch.setattr(bench.LiteralGloRe, 'from_unit', perturbed)
    case = bench.Case('t', 2, 2, 32, (5, 6), ('infer', ))
    with pytest.raises(AssertionError, match='differ'):
        bench.check_equal(bench.build_blocks(2, 32, 'cpu'), case, 'cpu')


def test_macs_follow_the_order_the_unit_takes():
    bench = _load('benchmark_units')
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


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the error without a GPU')
def test_cuda_requested_without_gpu_fails_clearly(tmp_path):
    result = _run('benchmark_units.py', '--quick', '--device', 'cuda',
                  '--out-dir', str(tmp_path))
    assert result.returncode != 0
    assert 'torch.cuda.is_available() is False' in result.stderr
    assert not any(tmp_path.iterdir())


def test_models_quick(tmp_path):
    result = _run('benchmark_models.py', '--quick', '--threads', '1',
                  '--out-dir', str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    bench = _load('benchmark_models')
    text = (tmp_path / 'benchmark_models.md').read_text()
    assert _table_header(bench.COLUMNS) in result.stdout
    assert _table_header(bench.COLUMNS) in text
    data = json.loads((tmp_path / 'benchmark_models.json').read_text())
    results = data['results']
    assert list(results) == ['FCN', 'GloRe', 'Non-local']
    for name, r in results.items():
        assert r['params'] > 0 and r['flops'] > 0, name
        assert r['infer_seconds'] > 0 and r['train_step_seconds'] > 0
        assert r['infer_peak_bytes'] > 0 and r['train_step_peak_bytes'] > 0
    # mmengine alone misses the GloRe unit's baddbmm products
    glore = results['GloRe']
    assert glore['flops_baddbmm'] > glore['flops']
    assert results['FCN']['flops_baddbmm'] == results['FCN']['flops']
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'benchmark_models.json', 'benchmark_models.md'
    ]


def test_models_flops_are_mmengines():
    """FLOPs without the baddbmm handle: get_model_complexity_info's."""
    from mmengine.analysis import get_model_complexity_info
    from mmengine.registry import init_default_scope
    bench = _load('benchmark_models')
    init_default_scope('mmseg')
    model = bench.build_model(bench.MODELS['GloRe'], (32, 64), quick=True)
    counts = bench.count(model, (32, 64))
    with torch.no_grad():
        info = get_model_complexity_info(
            bench.TensorForward(model).eval(),
            inputs=(torch.rand(1, 3, 32, 64), ),
            show_table=False,
            show_arch=False)
    assert counts['flops'] == info['flops']
    assert counts['flops_baddbmm'] > counts['flops']
