# Copyright (c) glore_mm contributors. All rights reserved.
"""The benchmark tools run end to end (quick mode) and report honestly;
they and get_flops.py refuse bad input as argparse does.

Each tool runs once as a process, as a user runs it; the machinery behind
them is tested in ``tests/test_analysis``. No timing is asserted: the
numbers depend on the machine and its load.
"""
import json
import sys

import pytest
import torch

from glore_mm.analysis.benchmark_models import COLUMNS
from glore_mm.analysis.benchmark_units import RATIO_COLUMNS, RESULT_COLUMNS
from tests.tool_runner import REPO, TOOLS, run_tool

UNITS = TOOLS / 'analysis_tools' / 'benchmark_units.py'
MODELS = TOOLS / 'analysis_tools' / 'benchmark_models.py'
FLOPS = TOOLS / 'analysis_tools' / 'get_flops.py'
CLS_CONFIG = REPO / 'configs/mmpretrain/resnet50-glore-res4x3_8xb32_in1k.py'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# Quick sizes: Non-local's training call on the largest sweep size
# (1 x 16 x 32 x 32, 1024 positions) is estimated at 13 MB, every other call
# below 3.5 MB: this budget makes only that one OOM.
MEM_LIMIT_GB = 0.005
# What torch.profiler's kineto prints on its own when it starts and stops
# (and, without CUDA, when it looks for GPUs)
PROFILER_LINES = ('profiler_start', 'profiler_stop', 'USDT:',
                  'gpuGetDeviceCount')


def _table_header(columns) -> str:
    return '| ' + ' | '.join(columns) + ' |'


def _assert_no_profiler_lines(result) -> None:
    for text in (result.stdout, result.stderr):
        for line in PROFILER_LINES:
            assert line not in text, text[-3000:]


@pytest.fixture(scope='module')
def units_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench_units')
    result = run_tool([
        sys.executable, UNITS, '--quick', '--threads', 1, '--mem-limit-gb',
        MEM_LIMIT_GB, '--out-dir', out
    ],
                      cwd=REPO)
    return out, result


@pytest.fixture(scope='module')
def models_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench_models')
    result = run_tool(
        [sys.executable, MODELS, '--quick', '--threads', 1, '--out-dir', out],
        cwd=REPO)
    return out, result


def test_units_tables(units_run):
    out, result = units_run
    text = (out / 'benchmark_units.md').read_text()
    for columns in (RESULT_COLUMNS, RATIO_COLUMNS):
        assert _table_header(columns) in result.stdout
        assert _table_header(columns) in text
    # one row per size and block, every block measured at the first size
    rows = [line for line in text.splitlines() if line.startswith('| head')]
    blocks = [row.split('|')[2].strip() for row in rows[:3]]
    assert blocks == ['ours', 'literal', 'nonlocal']
    for row in rows[:3]:
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert len(cells) == len(RESULT_COLUMNS)
        assert float(cells[4]) > 0 and float(cells[5]) > 0
    # the machine and the command are recorded
    assert 'Command: `python tools/analysis_tools/benchmark_units.py' in text
    assert 'threads 1' in text and 'GMAC/s' in text


def test_units_results_and_oom(units_run):
    out, _ = units_run
    data = json.loads((out / 'benchmark_units.json').read_text())
    assert data['machine']['device'] == 'cpu'
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
    _, result = units_run
    assert 'ours == literal on 2x32x8x16' in result.stdout
    assert 'ours == literal on 2x32x2x4x4' in result.stdout
    assert 'mmengine FlopAnalyzer vs analytic' in result.stdout


def test_units_console_has_no_profiler_lines(units_run):
    _, result = units_run
    assert 'head 2x32x8x16 train: ours ' in result.stdout
    _assert_no_profiler_lines(result)


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the error without a GPU')
@pytest.mark.parametrize('tool', [UNITS, MODELS])
def test_cuda_requested_without_gpu_is_refused(tool, tmp_path):
    result = run_tool([
        sys.executable, tool, '--quick', '--device', 'cuda', '--out-dir',
        tmp_path
    ],
                      cwd=REPO,
                      ok=False)
    assert result.returncode == 2
    assert 'error: --device cuda was given' in result.stderr
    assert 'torch.cuda.is_available() is False' in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize('tool, args, message', [
    (UNITS, ['--repeats', '0'], '--repeats must be at least 1, got 0'),
    (UNITS, ['--sweep-channels', '2'], '--sweep-channels must be at least 4'),
    (UNITS, ['--mem-limit-gb', '-1'], '--mem-limit-gb must be positive'),
    (MODELS, ['--train-shape', '0', '8'],
     '--train-shape takes a height and a width of at least 1, got [0, 8]'),
])
def test_bad_arguments_are_refused(tool, args, message, tmp_path):
    result = run_tool(
        [sys.executable, tool, '--quick', *args, '--out-dir', tmp_path],
        cwd=REPO,
        ok=False)
    assert result.returncode == 2
    assert f'error: {message}' in result.stderr
    assert 'usage:' in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize('args, message', [
    ([CLS_CONFIG, '--shape', '1', '2', '3'
      ], '--shape takes H W or one size for mmpretrain, got [1, 2, 3]'),
    (['missing.py'], "config 'missing.py' is not a file"),
])
def test_get_flops_refuses_bad_input(args, message):
    result = run_tool([sys.executable, FLOPS, *args], cwd=REPO, ok=False)
    assert result.returncode == 2
    assert result.stderr.startswith('usage: get_flops.py')
    assert f'get_flops.py: error: {message}' in result.stderr


def test_models_quick(models_run):
    out, result = models_run
    text = (out / 'benchmark_models.md').read_text()
    assert _table_header(COLUMNS) in result.stdout
    assert _table_header(COLUMNS) in text
    assert 'Command: `python tools/analysis_tools/benchmark_models.py' in text
    data = json.loads((out / 'benchmark_models.json').read_text())
    assert data['machine']['device'] == 'cpu'
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
    assert sorted(p.name for p in out.iterdir()) == [
        'benchmark_models.json', 'benchmark_models.md'
    ]


def test_models_console_has_no_profiler_lines(models_run):
    """The results reach the console, torch.profiler's own lines do not."""
    _, result = models_run
    for line in ('FCN: {', 'inference: {', 'train step: {', '| GloRe |'):
        assert line in result.stdout
    _assert_no_profiler_lines(result)
