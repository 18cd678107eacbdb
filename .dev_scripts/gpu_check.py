# Copyright (c) glore_mm contributors. All rights reserved.
"""The Python side of ``.dev_scripts/gpu_check.sh``.

Subcommands:

- ``check-env``: import everything the check needs; exit 1 if anything
  fails to import, naming it.
- ``missing --list FILE``: print the requirements of FILE
  (``.dev_scripts/gpu_bundle.txt``) whose module this Python cannot find,
  one a line; exit 1 if a module the bundle assumes the machine provides
  (the file's ``# provided:`` line) is missing.
- ``report --out-dir DIR ...``: write ``DIR/gpu_check.md`` from what the
  steps left in DIR: ``logs/steps.tsv``, the CUDA tests' JUnit XML and the
  benchmark reports.
"""
import argparse
import importlib
import importlib.metadata
import importlib.util
import os
import os.path as osp
import platform
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Dict, List, NamedTuple, Optional, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# What the checks import: each failure is one thing to install or build.
ENTRY_POINTS = ('torch', 'torchvision.ops', 'cv2', 'mmengine', 'mmcv.ops',
                'mmseg.models', 'mmaction.models', 'mmpretrain.models',
                'glore_mm.mmseg', 'glore_mm.mmaction', 'glore_mm.mmpretrain',
                'pytest', 'pkg_resources')
MMCV_SERIES = '2.1.'
PACKAGES = ('torch', 'torchvision', 'numpy', 'opencv-python-headless',
            'opencv-python', 'mmcv', 'mmengine', 'mmsegmentation', 'mmaction2',
            'mmpretrain')
BUDGET_SECONDS = 480
MIB = 1024**2
# mmseg's figures for the same models, trained with SyncBN on V100s
# (configs/fcn/README.md and configs/nonlocal_net/README.md of
# open-mmlab/mmsegmentation: Mem (GB) and Inf time (fps), Cityscapes,
# R-50-D8, 512x1024 crops, 40k iterations).
MMSEG_REFERENCE = (('FCN', '5.7', '4.17'), ('Non-local', '7.4', '2.72'))


def check_env() -> int:
    """Import :data:`ENTRY_POINTS`; print each result; 1 if one failed."""
    failures = 0
    for name in ENTRY_POINTS:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: B902 (any failure counts)
            failures += 1
            print(f'missing: {name} ({type(error).__name__}: {error})')
        else:
            print(f'ok: {name}')
    mmcv = sys.modules.get('mmcv')
    if mmcv is not None and not mmcv.__version__.startswith(MMCV_SERIES):
        failures += 1
        print(f'missing: mmcv {MMCV_SERIES}x (found {mmcv.__version__})')
    return 1 if failures else 0


class Requirement(NamedTuple):
    """A line ``name==version  # import module`` of the bundle list."""
    spec: str
    module: str


def read_list(path: str) -> Tuple[List[Requirement], List[str]]:
    """The requirements of ``path`` and the modules it assumes provided."""
    requirements, provided = [], []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if line.startswith('# provided:'):
                provided += line.split(':', 1)[1].split()
            if not line or line.startswith('#'):
                continue
            match = re.fullmatch(r'(\S+==\S+)\s+#\s*import\s+(\S+)', line)
            if match is None:
                raise ValueError(
                    f'{path}:{number}: expected "name==version  # import '
                    f'module", but got {line!r}')
            requirements.append(Requirement(*match.groups()))
    return requirements, provided


def missing(path: str) -> int:
    """Print the requirements to install; 1 if a provided module lacks."""
    requirements, provided = read_list(path)
    absent = [m for m in provided if importlib.util.find_spec(m) is None]
    if absent:
        print(
            f'{sys.executable} lacks {", ".join(absent)}: the bundle assumes '
            f'the machine provides them ("# provided:" in {path}). Install '
            'them there, or run from a Python that has them.',
            file=sys.stderr)
        return 1
    for req in requirements:
        if importlib.util.find_spec(req.module) is None:
            print(req.spec)
    return 0


# --------------------------------------------------------------------------
# The report


class Step(NamedTuple):
    name: str
    status: str
    seconds: float
    detail: str


def read_steps(path: str) -> List[Step]:
    steps = []
    if osp.isfile(path):
        with open(path) as f:
            for line in f:
                name, status, seconds, detail = line.rstrip('\n').split(
                    '\t', 3)
                steps.append(Step(name, status, float(seconds), detail))
    return steps


class TestCase(NamedTuple):
    name: str
    outcome: str
    seconds: float
    message: str
    properties: List[Tuple[str, str]]


def read_junit(path: str) -> List[TestCase]:
    """The test cases of a pytest JUnit XML file (junit_family xunit1)."""
    cases = []
    for case in ET.parse(path).getroot().iter('testcase'):
        outcome, message = 'passed', ''
        for tag in ('failure', 'error', 'skipped'):
            element = case.find(tag)
            if element is not None:
                outcome = {'failure': 'failed'}.get(tag, tag)
                text = element.get('message') or ''
                message = text.splitlines()[0] if text else ''
                break
        properties = [(p.get('name'), p.get('value'))
                      for p in case.iter('property')]
        module = case.get('classname', '').rsplit('.', 1)[-1]
        cases.append(
            TestCase(f"{module}::{case.get('name')}", outcome,
                     float(case.get('time') or 0), message, properties))
    return cases


def machine_lines(device: str) -> List[str]:
    lines = [
        f'Python {platform.python_version()} ({sys.executable}), '
        f'{os.cpu_count()} CPU cores, {platform.platform()}'
    ]
    try:
        import torch
    except ImportError as error:
        return lines + [f'torch does not import: {error}']
    lines.append(
        f'torch {torch.__version__}, built with CUDA {torch.version.cuda}, '
        f'cuDNN {torch.backends.cudnn.version()}')
    if device == 'cuda' and torch.cuda.is_available():
        names = [
            torch.cuda.get_device_name(i)
            for i in range(torch.cuda.device_count())
        ]
        lines.append(f'GPUs seen by torch: {", ".join(names)}')
    try:
        smi = subprocess.run([
            'nvidia-smi', '--query-gpu=name,driver_version,memory.total',
            '--format=csv,noheader'
        ],
                             capture_output=True,
                             text=True,
                             timeout=30)
        if smi.returncode == 0 and smi.stdout.strip():
            lines.append('nvidia-smi: ' +
                         '; '.join(smi.stdout.split('\n')[:-1]))
    except (OSError, subprocess.TimeoutExpired):
        pass
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f'{package} {importlib.metadata.version(package)}')
        except importlib.metadata.PackageNotFoundError:
            pass
    lines.append('Packages: ' + ', '.join(versions))
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                                cwd=REPO,
                                capture_output=True,
                                text=True,
                                timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ''
    if commit:
        lines.append(f'glore_mm commit {commit} (plus the working tree)')
    return lines


def bundle_lines(bundle: Optional[str]) -> List[str]:
    if not bundle:
        return ['No bundle was given.']
    files = sorted(
        (f for f in os.listdir(bundle) if osp.isfile(osp.join(bundle, f))),
        key=lambda f: -osp.getsize(osp.join(bundle, f)))
    total = sum(osp.getsize(osp.join(bundle, f)) for f in files)
    return [
        f'Bundle `{bundle}`: {len(files)} files, {total / MIB:.1f} MiB: ' +
        ', '.join(f'{f} ({osp.getsize(osp.join(bundle, f)) / MIB:.2f})'
                  for f in files)
    ]


def markdown_table(columns, rows) -> str:
    lines = [
        '| ' + ' | '.join(columns) + ' |',
        '|' + '|'.join('---' for _ in columns) + '|'
    ]
    lines += [
        '| ' + ' | '.join(str(v).replace('|', '\\|') for v in row) + ' |'
        for row in rows
    ]
    return '\n'.join(lines)


def embedded(path: str, levels: int = 2) -> List[str]:
    """A markdown report with its headings moved ``levels`` down."""
    if not osp.isfile(path):
        return [
            f'Not written: `{osp.basename(path)}` is missing (see the '
            'step\'s log).'
        ]
    with open(path) as f:
        text = f.read()
    return [
        re.sub(r'^(#+) ', lambda m: '#' * (len(m.group(1)) + levels) + ' ',
               line) for line in text.splitlines()
    ]


def tests_section(out_dir: str, device: str) -> List[str]:
    path = osp.join(out_dir, 'cuda_tests.xml')
    if not osp.isfile(path):
        return ['No JUnit XML was written: see `logs/cuda_tests.log`.']
    cases = read_junit(path)
    counts: Dict[str, int] = {}
    for case in cases:
        counts[case.outcome] = counts.get(case.outcome, 0) + 1
    summary = ', '.join(f'{n} {outcome}'
                        for outcome, n in sorted(counts.items())) or 'no tests'
    lines = [
        f'`pytest tests/test_cuda -m cuda`: {len(cases)} tests, {summary}.', ''
    ]
    if device == 'cpu':
        lines += [
            'Without CUDA every one of them skips (marker `cuda`, '
            '`skipif(not torch.cuda.is_available())`): this run only shows '
            'that they are collected.', ''
        ]
    rows = []
    for case in cases:
        recorded = '; '.join(f'{k}: {v}' for k, v in case.properties)
        note = recorded or case.message
        if case.outcome == 'failed' and case.message:
            note = f'{case.message}; {recorded}' if recorded else case.message
        rows.append([case.name, case.outcome, f'{case.seconds:.1f}', note])
    lines.append(
        markdown_table(('test', 'result', 's', 'recorded / message'), rows))
    lines += [
        '', 'Errors are `||a - b|| / ||b||` against the float64 literal '
        'unit (the unit\'s contribution `out - x`, its part of the input '
        'gradient, every parameter gradient); the tolerance column is '
        'forward / backward.'
    ]
    return lines


def report(args: argparse.Namespace) -> int:
    out = args.out_dir
    steps = read_steps(osp.join(out, 'logs', 'steps.tsv'))
    dry = args.device == 'cpu'
    bundle = None if args.bundle == '-' else args.bundle
    quick = ' --quick' if args.quick else ''
    lines = ['# GPU check', '']
    if dry:
        lines += [
            '**CPU dry run (`--device cpu`): no GPU was used, and no number '
            'in this report is a GPU number.** The CUDA tests were only '
            'collected (they skip), and the benchmarks ran on the CPU' +
            (' at tiny sizes (`--quick`)' if args.quick else '') + ' to show '
            'that the tools and this report work.', ''
        ]
    else:
        lines += [
            'GPU run (`--device cuda`). Random weights and random inputs '
            'throughout: the numbers are speed, memory and numerical '
            'accuracy, not accuracy of trained models.', ''
        ]
    lines += [
        f'Command: `bash .dev_scripts/gpu_check.sh --device {args.device}'
        f'{quick}' + (f' --bundle {bundle}' if bundle else '') +
        f' --out-dir {out}`', '',
        f'Finished {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, '
        f'{args.seconds:.0f} s in all' +
        ('' if dry else f' (budget {BUDGET_SECONDS} s)') + '.', ''
    ]
    lines += ['## Machine', '']
    lines += [f'- {line}' for line in machine_lines(args.device)]
    lines += ['', '## Set-up and steps', '']
    lines += bundle_lines(bundle) + ['']
    lines.append(
        markdown_table(('step', 'result', 's', 'detail'), [[
            s.name, s.status, f'{s.seconds:.1f}',
            f'`{s.detail}`' if s.detail else ''
        ] for s in steps]))
    lines += ['', 'Logs: `logs/<step>.log`.', '', '## CUDA tests', '']
    lines += tests_section(out, args.device)
    lines += ['', '## Unit benchmark', '']
    for dtype in ('fp32', 'bf16'):
        path = osp.join(out, f'benchmark_units_{dtype}', 'benchmark_units.md')
        if dtype == 'bf16' and dry:
            lines += ['bf16: not run in a CPU dry run.', '']
            continue
        lines += [f'### {dtype}', ''] + embedded(path, levels=3) + ['']
    lines += ['## Model benchmark', '']
    lines += embedded(
        osp.join(out, 'benchmark_models', 'benchmark_models.md')) + ['']
    lines += [
        'Random weights (no pretrained backbone) and random images and '
        'labels. For scale, mmseg\'s own figures for two of these models, '
        'from full training runs with SyncBN on V100s (`Mem (GB)` per GPU '
        'in training, `Inf time (fps)`; configs/fcn/README.md and '
        'configs/nonlocal_net/README.md of open-mmlab/mmsegmentation, '
        'R-50-D8, 512x1024 crops, 40k iterations); they are not '
        'measured here and not comparable one to one:', ''
    ]
    lines.append(
        markdown_table(('model', 'mmseg Mem (GB)', 'mmseg Inf time (fps)'),
                       MMSEG_REFERENCE))
    lines.append('')
    write_atomic(osp.join(out, 'gpu_check.md'), '\n'.join(lines))
    print(f'wrote {osp.join(out, "gpu_check.md")}')
    return 0


def write_atomic(path: str, text: str) -> None:
    """Write ``path`` through a temporary file beside it and a rename."""
    fd, tmp = tempfile.mkstemp(
        dir=osp.dirname(osp.abspath(path)), prefix='.' + osp.basename(path))
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('check-env', help='import what the checks need')
    miss = sub.add_parser('missing', help='print the wheels to install')
    miss.add_argument('--list', required=True, help='gpu_bundle.txt')
    rep = sub.add_parser('report', help='write OUT_DIR/gpu_check.md')
    rep.add_argument('--out-dir', required=True)
    rep.add_argument('--device', choices=['cuda', 'cpu'], required=True)
    rep.add_argument('--quick', type=int, choices=[0, 1], default=0)
    rep.add_argument(
        '--bundle', default='-', help='the bundle folder, or - for none')
    rep.add_argument(
        '--seconds', type=float, required=True, help='wall time so far')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.command == 'check-env':
        return check_env()
    if args.command == 'missing':
        return missing(args.list)
    return report(args)


if __name__ == '__main__':
    sys.exit(main())
