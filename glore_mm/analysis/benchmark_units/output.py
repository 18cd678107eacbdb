# Copyright (c) glore_mm contributors. All rights reserved.
"""What the unit benchmark writes: the tables, the JSON, the plot.

Figures per block (see ``docs/benchmark.md`` for the definitions): median
time of the inference forward (eval mode, no grad) and of a training
forward+backward (train mode, input and weights require grad); the peak
memory of the call above what was allocated before it; multiply-adds
counted analytically per matrix product (:func:`~.cases.count_macs`,
elementwise work not counted); the achieved multiply-add rate as a
fraction of a dense matmul's, timed between the blocks in the same rounds;
and time and memory ratios of ours to the others.
"""
import json
import statistics
from typing import Dict, List, Optional

from glore_mm.utils import save_figure
from ..benchmark import MatmulReference, MiB
from ..report import machine_line, markdown_table
from .cases import IMPLS, count_macs
from .measure import Measurement, format_ms

# Columns of the two tables; the tests check them.
RESULT_COLUMNS = ('size', 'block', 'input', 'L', 'fwd ms', 'fwd+bwd ms',
                  'fwd MiB', 'fwd+bwd MiB', 'fwd GMAC', 'fwd % matmul',
                  'fwd+bwd % matmul')
RATIO_COLUMNS = ('size', 'L', 'fwd ours/literal', 'fwd+bwd ours/literal',
                 'fwd ours/nonlocal', 'fwd+bwd ours/nonlocal',
                 'fwd+bwd MiB ours/literal', 'fwd+bwd MiB ours/nonlocal')


def _mib(m: Optional[Measurement]) -> str:
    if m is None:
        return '-'
    return 'OOM' if m.oom else f'{m.peak / MiB:.1f}'


def _rate(m: Optional[Measurement], macs: int,
          reference: Optional[float]) -> str:
    if m is None or m.oom or not reference:
        return '-'
    return f'{macs / m.seconds / reference:.0%}'


def _ratio(a: Optional[float], b: Optional[float]) -> str:
    return '-' if a is None or b is None or not b else f'{a / b:.3f}'


def result_rows(records: List[Dict]) -> List[List[str]]:
    """The rows of the table of :data:`RESULT_COLUMNS`."""
    rows = []
    for rec in records:
        case = rec['case']
        for name in IMPLS:
            infer = rec['infer'].get(name)
            train = rec['train'].get(name)
            macs = count_macs(name, case)
            rows.append([
                case.name, name, case.label, case.length,
                format_ms(infer),
                format_ms(train),
                _mib(infer),
                _mib(train), f'{macs / 1e9:.2f}',
                _rate(infer, macs, rec.get('infer_rate')),
                _rate(train, 3 * macs, rec.get('train_rate'))
            ])
    return rows


def ratio_rows(records: List[Dict]) -> List[List[str]]:
    """The rows of the table of :data:`RATIO_COLUMNS`."""
    rows = []
    for rec in records:
        row = [rec['case'].name, rec['case'].length]
        for other in ('literal', 'nonlocal'):
            for mode in ('infer', 'train'):
                ours, theirs = (rec[mode].get(k) for k in ('ours', other))
                row.append(
                    _ratio(*(m.seconds if m else None
                             for m in (ours, theirs))))
        for other in ('literal', 'nonlocal'):
            ours, theirs = (rec['train'].get(k) for k in ('ours', other))
            row.append(
                _ratio(*(m.peak if m else None for m in (ours, theirs))))
        rows.append(row)
    return rows


def sweep_title(records: List[Dict], info: Dict[str, str]) -> str:
    """The plot's title: the blocks, the sweep's channels, the machine."""
    channels = next(r['case'].channels for r in records if r['case'].sweep)
    plural = '' if info['threads'] == '1' else 's'
    return (f'GloRe (ours) vs literal GloRe vs Non-local, batch 1, '
            f"{channels} channels, {info['device']} {info['dtype']}, "
            f"{info['threads']} thread{plural}")


def plot_sweep(records: List[Dict], path: str, title: str) -> None:
    """Time and peak memory against positions, log-log, one line a block.

    Args:
        records (list[dict]): From :func:`benchmark_cases`; the sweep's
            are plotted.
        path (str): The PNG to write (through a temporary file).
        title (str): The figure's title.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    sweep = [rec for rec in records if rec['case'].sweep]
    lengths = [rec['case'].length for rec in sweep]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    styles = {'ours': 'o-', 'literal': 's--', 'nonlocal': '^-'}
    for ax, (key, scale, ylabel) in zip(axes, [
        ('seconds', 1e3, 'fwd+bwd time (ms)'),
        ('peak', 1 / MiB, 'fwd+bwd peak memory (MiB)'),
    ]):
        ooms, anchor = [], {}
        for name in IMPLS:
            points = []
            for rec in sweep:
                m = rec['train'].get(name)
                if m is not None and m.oom:
                    ooms.append((name, rec['case'].length))
                elif m is not None:
                    points.append((rec['case'].length, getattr(m, key)))
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, [y * scale for y in ys], styles[name], label=name)
                anchor[name] = (xs[-1], ys[-1] * scale)
        # guides: growth in proportion to L through ours' last point, to
        # L^2 through Non-local's (dotted, labelled L and L^2)
        for name, power in (('ours', 1), ('nonlocal', 2)):
            if name in anchor:
                x0, y0 = anchor[name]
                ax.plot(
                    lengths, [y0 * (v / x0)**power for v in lengths],
                    ':',
                    color='grey',
                    linewidth=1)
                ax.text(
                    lengths[-1],
                    y0 * (lengths[-1] / x0)**power,
                    ' L' if power == 1 else ' L^2',
                    fontsize=8,
                    color='grey')
        for name, length in ooms:
            ax.axvline(length, color='grey', linestyle=':')
            ax.text(
                length,
                ax.get_ylim()[1],
                f' {name} OOM',
                rotation=90,
                va='top',
                ha='right',
                fontsize=7)
        ax.set_xscale('log', base=2)
        ax.set_yscale('log')
        ax.set_xlabel('positions L')
        ax.set_ylabel(ylabel)
        ax.set_xticks(lengths)
        ax.set_xticklabels([str(v) for v in lengths], fontsize=7)
        ax.grid(True, which='both', alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=90)
    finally:
        plt.close(fig)


def report(records: List[Dict], reference: MatmulReference,
           info: Dict[str, str], notes: List[str], command: str) -> str:
    """The markdown report: command, machine, reference, both tables.

    Args:
        records (list[dict]): From :func:`benchmark_cases`.
        reference (MatmulReference): The run's dense matmul.
        info (dict[str, str]): From
            :func:`~glore_mm.analysis.benchmark.benchmark_machine`.
        notes (list[str]): The checks' summaries.
        command (str): The command as run.

    Returns:
        str: The report.
    """
    sweep = next((rec['case'] for rec in records if rec['case'].sweep), None)
    lines = [
        '# GloRe unit benchmark', '', f'Command: `{command}`', '',
        machine_line(info), '',
        f'Dense matmul reference: torch.mm of {reference.size}x'
        f'{reference.size} {reference.dtype} matrices, timed once per round '
        'between the blocks of every size and mode; the \'% matmul\' '
        'columns divide by its median rate in the same rounds. Over the '
        f'run: median {statistics.median(reference.rates) / 1e9:.1f}, '
        f'range {min(reference.rates) / 1e9:.1f} to '
        f'{max(reference.rates) / 1e9:.1f} GMAC/s.', ''
    ]
    lines += [f'- {note}' for note in notes]
    lines += [
        '', '## Time, memory, multiply-adds', '',
        markdown_table(RESULT_COLUMNS, result_rows(records)), '',
        'fwd: inference forward (eval, no grad); fwd+bwd: training forward '
        'and backward (train mode, input and weights require grad). '
        'MiB: peak allocated during the call above what was allocated '
        'before it. GMAC: analytic multiply-adds of the forward\'s matrix '
        'products; fwd+bwd does 3x.', '', '## Ratios (< 1: ours is faster '
        'or smaller)', '',
        markdown_table(RATIO_COLUMNS, ratio_rows(records)), ''
    ]
    if sweep is not None:
        lines += [f'Sweep: batch 1, {sweep.channels} channels.', '']
    return '\n'.join(lines)


def to_json(records: List[Dict], reference: MatmulReference,
            info: Dict[str, str]) -> str:
    """Every number of the run: machine, reference rates, a row a call.

    Args:
        records (list[dict]): From :func:`benchmark_cases`.
        reference (MatmulReference): The run's dense matmul.
        info (dict[str, str]): The machine.

    Returns:
        str: JSON.
    """
    out = []
    for rec in records:
        case = rec['case']
        for mode in ('infer', 'train'):
            for name, m in rec[mode].items():
                out.append(
                    dict(
                        size=case.name,
                        shape=list(case.shape),
                        positions=case.length,
                        block=name,
                        mode=mode,
                        seconds=m.seconds,
                        peak_bytes=m.peak,
                        oom=m.oom,
                        forward_macs=count_macs(name, case),
                        matmul_macs_per_s=rec[mode + '_rate']))
    matmul = dict(
        size=reference.size, dtype=reference.dtype, rates=reference.rates)
    return json.dumps(dict(machine=info, matmul=matmul, results=out), indent=1)
