# Copyright (c) glore_mm contributors. All rights reserved.
"""``.dev_scripts/gpu_check.sh`` in its CPU dry mode, and its helpers.

The dry run is the GPU check's own command with ``--device cpu --quick``:
the environment is complete (nothing is installed), the CUDA tests are
collected and skip, the benchmarks run on the CPU at tiny sizes, and the
report must say so and carry the numbers the tools computed.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, NamedTuple

import pytest

from tests.tool_runner import REPO, CompletedProcess, run_tool, tool_env

DEV = REPO / '.dev_scripts'
CHECK = DEV / 'gpu_check.sh'
SECTIONS = ('## Machine', '## Set-up and steps', '## CUDA tests',
            '## Unit benchmark', '## Model benchmark')


class DryRun(NamedTuple):
    out: Path
    report: str
    stdout: str


@pytest.fixture(scope='module')
def dry_run(tmp_path_factory) -> DryRun:
    out = tmp_path_factory.mktemp('gpu_check')
    venv = out.parent / 'venv'
    result = run_tool(
        ['bash', CHECK, '--device', 'cpu', '--quick', '--out-dir', out],
        cwd=REPO,
        env=tool_env(OMP_NUM_THREADS='1', GPU_CHECK_VENV=str(venv)))
    # the environment had everything: no virtualenv was made
    assert not venv.exists()
    return DryRun(out, (out / 'gpu_check.md').read_text(), result.stdout)


def _table(text: str, header: str) -> List[Dict[str, str]]:
    """The rows of the markdown table whose header row starts with
    ``header``, as dicts keyed by column."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    columns = [c.strip() for c in lines[start].strip('|').split('|')]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        cells = [c.strip() for c in line.strip('|').split('|')]
        rows.append(dict(zip(columns, cells)))
    return rows


def test_report_says_it_is_a_cpu_dry_run(dry_run):
    assert dry_run.report.startswith('# GPU check\n')
    assert '**CPU dry run (`--device cpu`): no GPU was used, and no number ' \
        'in this report is a GPU number.**' in dry_run.report
    assert 'GPU run (`--device cuda`)' not in dry_run.report
    positions = [dry_run.report.index(s + '\n') for s in SECTIONS]
    assert positions == sorted(positions)
    assert 'bf16: not run in a CPU dry run.' in dry_run.report


def test_steps_ran_and_nothing_was_installed(dry_run):
    steps = {
        row['step']: row
        for row in _table(dry_run.report, '| step | result |')
    }
    assert list(steps) == [
        'check_env', 'install', 'build_mmcv', 'patch_mmaction', 'cuda_tests',
        'units_fp32', 'models'
    ]
    assert steps['check_env']['result'] == 'ok'
    for name in ('install', 'build_mmcv', 'patch_mmaction'):
        assert steps[name]['result'] == 'skipped: nothing to install'
    for name in ('cuda_tests', 'units_fp32', 'models'):
        assert steps[name]['result'] == 'ok', steps[name]
        assert float(steps[name]['s']) > 0
    assert '--device cpu' in steps['models']['detail']


def test_cuda_tests_are_collected_and_skip(dry_run):
    cases = list(
        ET.parse(dry_run.out / 'cuda_tests.xml').getroot().iter('testcase'))
    names = [case.get('name') for case in cases]
    # 2 dims x 4 precisions x train/eval, 2 head modes, 3 trainings, SyncBN
    assert len(cases) == 16 + 2 + 3 + 1
    assert all(case.find('skipped') is not None for case in cases)
    assert 'test_unit_matches_float64_reference[2-bf16-train]' in names
    assert f'{len(cases)} tests, {len(cases)} skipped.' in dry_run.report
    rows = _table(dry_run.report, '| test | result |')
    assert [row['result'] for row in rows] == ['skipped'] * len(cases)
    assert all('needs a CUDA device' in row['recorded / message']
               for row in rows)


def test_model_table_holds_the_tools_numbers(dry_run):
    path = dry_run.out / 'benchmark_models' / 'benchmark_models.json'
    data = json.loads(path.read_text())
    assert data['machine']['device'] == 'cpu'
    rows = {row['model']: row for row in _table(dry_run.report, '| model |')}
    assert list(rows) == ['FCN', 'GloRe', 'Non-local']
    for name, row in rows.items():
        result = data['results'][name]
        seconds = result['train_step_seconds']
        assert row['train step ms'] == f'{seconds * 1e3:.0f}'
        assert row['train it/s'] == f'{1 / seconds:.2f}'
        train_mib = (result['train_step_peak_bytes'] +
                     result['model_state_bytes']) / 1024**2
        assert row['train MiB'] == f'{train_mib:.0f}'
        assert float(row['train it/s']) > 0 and float(row['train MiB']) > 0
        assert float(row['params (M)']) > 0


def test_unit_table_holds_the_tools_numbers(dry_run):
    path = dry_run.out / 'benchmark_units_fp32' / 'benchmark_units.json'
    data = json.loads(path.read_text())
    assert data['machine']['device'] == 'cpu'
    results = {(r['size'], r['block'], r['mode']): r for r in data['results']}
    rows = [
        row for row in _table(dry_run.report, '| size | block |')
        if row['size'] == 'head'
    ]
    assert [row['block'] for row in rows] == ['ours', 'literal', 'nonlocal']
    for row in rows:
        for column, mode in (('fwd ms', 'infer'), ('fwd+bwd ms', 'train')):
            seconds = results[('head', row['block'], mode)]['seconds']
            assert seconds > 0
            assert row[column] == f'{seconds * 1e3:.1f}'


@pytest.mark.parametrize('args, message', [
    (['--device', 'tpu', '--out-dir', 'x'
      ], "--device must be cuda or cpu, but got 'tpu'"),
    (['--device', 'cpu'], '--out-dir is required'),
    (['--out-dir', 'x', '--frobnicate'], "unknown argument '--frobnicate'"),
    (['--bundle', '/no/such/bundle', '--out-dir', 'x'
      ], "--bundle '/no/such/bundle' is no folder"),
])
def test_bad_arguments(tmp_path, args, message):
    result = run_tool(['bash', CHECK, *args], cwd=tmp_path, ok=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / 'x').exists()


def test_incomplete_environment_without_bundle_stops(tmp_path):
    """A Python that imports nothing (-S: no site-packages) needs a bundle;
    the report still says what happened."""
    python = tmp_path / 'python'
    python.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    python.chmod(0o755)
    out = tmp_path / 'out'
    result = run_tool(['bash', CHECK, '--device', 'cpu', '--out-dir', out],
                      cwd=tmp_path,
                      env=tool_env(PYTHON=str(python)),
                      ok=False)
    assert result.returncode == 1
    assert 'no --bundle was given' in result.stderr
    log = (out / 'logs' / 'check_env.log').read_text()
    assert 'missing: torch' in log
    report = (out / 'gpu_check.md').read_text()
    assert 'CPU dry run' in report
    assert re.search(r'\| install \| failed: .*no --bundle was given', report)


def _missing(list_file: Path) -> CompletedProcess:
    return run_tool(
        [sys.executable, DEV / 'gpu_check.py', 'missing', '--list', list_file],
        cwd=REPO,
        ok=False)


def test_missing_lists_what_does_not_import(tmp_path):
    list_file = tmp_path / 'bundle.txt'
    list_file.write_text('# provided: torch json\n'
                         'pytest==1.0  # import pytest\n'
                         'nosuchdist==1.0  # import no_such_module_zq\n')
    result = _missing(list_file)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['nosuchdist==1.0']


def test_missing_stops_when_a_provided_module_lacks(tmp_path):
    list_file = tmp_path / 'bundle.txt'
    list_file.write_text('# provided: torch no_such_base_zq\n'
                         'pytest==1.0  # import pytest\n')
    result = _missing(list_file)
    assert result.returncode == 1
    assert 'lacks no_such_base_zq' in result.stderr
    assert result.stdout == ''


def test_missing_names_a_malformed_line(tmp_path):
    list_file = tmp_path / 'bundle.txt'
    list_file.write_text('pytest==1.0\n')
    result = _missing(list_file)
    assert result.returncode != 0
    assert 'bundle.txt:1: expected "name==version  # import module"' in \
        result.stderr


def test_bundle_list_parses_and_pins_every_wheel():
    """Every line of gpu_bundle.txt is pinned and names its module once."""
    result = _missing(DEV / 'gpu_bundle.txt')
    assert result.returncode == 0, result.stderr
    lines = [
        line for line in (DEV / 'gpu_bundle.txt').read_text().splitlines()
        if line and not line.startswith('#')
    ]
    names = [line.split('==')[0] for line in lines]
    assert len(names) == len(set(names)) and 'mmengine' in names
    assert all(
        re.fullmatch(r'\S+==[\d.]+\s+# import \S+', line)
        for line in lines), lines


@pytest.mark.parametrize('make_out, message', [
    (None, 'usage:'),
    ('full', "exists and is not empty"),
])
def test_bundle_script_arguments(tmp_path, make_out, message):
    args = []
    if make_out:
        out = tmp_path / make_out
        out.mkdir()
        (out / 'file').write_text('x')
        args = [out]
    result = run_tool(['bash', DEV / 'gpu_bundle.sh', *args],
                      cwd=tmp_path,
                      ok=False)
    assert result.returncode == 2
    assert message in result.stderr
