# Copyright (c) glore_mm contributors. All rights reserved.
"""Speed and memory of the GloRe unit, the paper's literal unit, Non-local.

The machinery of ``tools/analysis_tools/benchmark_units.py``. Three blocks
that all map ``[N, C, *spatial]`` to the same shape run side by side in one
process, for each size (:class:`Case`):

- ``ours``: :class:`GloRe2d` / :class:`GloRe3d` from glore_mm;
- ``literal``: :class:`~glore_mm.analysis.reference.LiteralGloRe`, the unit
  as the paper and the authors' code write it, with ours' weights. It
  computes the same function as ours; :func:`check_equal` checks that;
- ``nonlocal``: mmcv's ``NonLocal2d`` / ``NonLocal3d``, embedded Gaussian,
  reduction 2, BN after the output conv: the block of mmseg's NLHead.

Figures per block (see ``docs/benchmark.md`` for the definitions): median
time of the inference forward (eval mode, no grad) and of a training
forward+backward (train mode, input and weights require grad); the peak
memory of the call above what was allocated before it; multiply-adds
counted analytically per matrix product (:func:`count_macs`, elementwise
work not counted); the achieved multiply-add rate as a fraction of a dense
matmul's, timed between the blocks in the same rounds; and time and memory
ratios of ours to the others. Blocks whose estimated memory
(:func:`estimate_bytes`) exceeds the budget are not run and are reported
as ``OOM: needs X GiB``; a run that fails to allocate is reported
likewise.
"""
import copy
import json
import math
import statistics
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn.bricks import NonLocal2d, NonLocal3d

from glore_mm.models.layers.glore import GloRe2d, GloRe3d
from glore_mm.models.layers.glore_products import nodes_first
from glore_mm.utils import save_figure
from .benchmark import (GiB, MatmulReference, MiB, Timer, is_oom, release,
                        time_interleaved)
from .complexity import flop_analyzer
from .reference import LiteralGloRe
from .report import machine_line, markdown_table

IMPLS = ('ours', 'literal', 'nonlocal')
# Columns of the two tables; the tests check them.
RESULT_COLUMNS = ('size', 'block', 'input', 'L', 'fwd ms', 'fwd+bwd ms',
                  'fwd MiB', 'fwd+bwd MiB', 'fwd GMAC', 'fwd % matmul',
                  'fwd+bwd % matmul')
RATIO_COLUMNS = ('size', 'L', 'fwd ours/literal', 'fwd+bwd ours/literal',
                 'fwd ours/nonlocal', 'fwd+bwd ours/nonlocal',
                 'fwd+bwd MiB ours/literal', 'fwd+bwd MiB ours/nonlocal')
# the dense matmul's name among the blocks' calls of a round
_REFERENCE = 'dense matmul'

# --------------------------------------------------------------------------
# Blocks and sizes


def build_blocks(dims: int, channels: int,
                 device: str) -> Dict[str, nn.Module]:
    """Ours, the literal unit with ours' weights, and Non-local.

    2D units normalise (as in the segmentation head), 3D ones do not (the
    paper's video networks). Every gate is opened (random), so no block
    computes a trivial residual.

    Args:
        dims (int): 2 or 3 spatial dimensions.
        channels (int): Input channels of every block.
        device (str): Where the blocks are.

    Returns:
        dict[str, nn.Module]: The blocks by the names of :data:`IMPLS`.
    """
    torch.manual_seed(0)
    unit = {2: GloRe2d, 3: GloRe3d}[dims](channels, normalize=dims == 2)
    nonlocal_block = {
        2: NonLocal2d,
        3: NonLocal3d
    }[dims](
        channels,
        reduction=2,
        use_scale=True,
        norm_cfg=dict(type='BN' if dims == 2 else 'BN3d'),
        mode='embedded_gaussian')
    with torch.no_grad():
        for norm in (unit.norm, nonlocal_block.conv_out.norm):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.1)
    unit = unit.to(device)
    return {
        'ours': unit,
        'literal': LiteralGloRe.from_unit(unit),
        'nonlocal': nonlocal_block.to(device)
    }


class Case(NamedTuple):
    """One input size: ``[n, channels, *spatial]``, and what runs at it."""
    name: str
    dims: int
    n: int
    channels: int
    spatial: Tuple[int, ...]
    modes: Tuple[str, ...]
    sweep: bool = False

    @property
    def length(self) -> int:
        return math.prod(self.spatial)

    @property
    def shape(self) -> Tuple[int, ...]:
        return (self.n, self.channels) + self.spatial

    @property
    def label(self) -> str:
        return 'x'.join(str(s) for s in self.shape)


BOTH = ('infer', 'train')
# the sweep shows training, where Non-local's L x L maps are kept
TRAIN = ('train', )


def make_cases(quick: bool, sweep_channels: int) -> List[Case]:
    """The sizes of a run: the FCN head, whole images, a sweep, video.

    Args:
        quick (bool): Tiny sizes that check that the tool works.
        sweep_channels (int): Channels of the sweep over the number of
            positions (full sizes only).

    Returns:
        list[Case]: In the order they run.
    """
    if quick:
        sweep = [(8, 8), (16, 16), (16, 32), (32, 32)]
        return [
            Case('head', 2, 2, 32, (8, 16), BOTH),
            Case('whole', 2, 1, 32, (16, 32), ('infer', )),
        ] + [Case('sweep', 2, 1, 16, hw, TRAIN, sweep=True)
             for hw in sweep] + [Case('video', 3, 2, 32, (2, 4, 4), BOTH)]
    # 1k to 32k positions
    sweep = [(32, 32), (32, 64), (64, 64), (64, 128), (128, 128), (128, 256)]
    return [
        # FCN head at Cityscapes training crops: 512x1024 at 1/8
        Case('head 512x1024 crop', 2, 2, 512, (64, 128), BOTH),
        # whole-image inference, 1024x2048 at 1/8
        Case('whole 1024x2048', 2, 1, 512, (128, 256), ('infer', )),
    ] + [
        Case('sweep', 2, 1, sweep_channels, hw, TRAIN, sweep=True)
        for hw in sweep
    ] + [
        # video res4: 1024 channels, 8 frames -> 4, 224 -> 14; 8 clips
        Case('video res4', 3, 8, 1024, (4, 14, 14), BOTH),
    ]


# --------------------------------------------------------------------------
# Counting: multiply-adds and memory, analytically


def count_macs(block: str, case: Case) -> int:
    """Multiply-adds of one forward (all images), matrix products only.

    A training forward+backward does three times as many: each product's
    backward computes the gradients of both of its operands.

    Args:
        block (str): One of :data:`IMPLS`.
        case (Case): The size.

    Returns:
        int: The multiply-adds.
    """
    c, length = case.channels, case.length
    s, k = c // 2, c // 4
    graph = k * k * s + s * s * k
    if block == 'literal':
        per_image = length * (c * s + c * k + 2 * s * k + s * c) + graph
    elif block == 'ours':
        # the same order choice as the unit's
        if nodes_first(c, s, k, length):
            pool = c * k * length + s * c * k
        else:
            pool = c * s * length + s * k * length
        per_image = c * k * length + 2 * pool + graph
    elif block == 'nonlocal':
        inter = c // 2
        per_image = 4 * c * inter * length + 2 * inter * length * length
    else:
        raise KeyError(block)
    return case.n * per_image


def estimate_bytes(block: str, case: Case, mode: str) -> int:
    """An upper estimate of a call's peak memory (fp32), to skip OOM runs.

    Non-local holds two (inference) or three (training) attention maps of
    L x L per image at its peak; the GloRe units hold a few [C, L] maps.

    Args:
        block (str): One of :data:`IMPLS`.
        case (Case): The size.
        mode (str): ``'infer'`` or ``'train'``.

    Returns:
        int: Bytes.
    """
    maps = case.n * case.channels * case.length
    if block == 'nonlocal':
        attention = case.n * case.length**2
        count = 2 * attention + 4 * maps if mode == 'infer' else \
            3 * attention + 8 * maps
    else:
        count = (4 if mode == 'infer' else 8) * maps
    return 4 * count


# --------------------------------------------------------------------------
# Measuring


def make_call(block: nn.Module, x: torch.Tensor, mode: str,
              dtype: torch.dtype) -> Callable[[], None]:
    """One inference forward or one training forward+backward.

    Args:
        block (nn.Module): The block.
        x (torch.Tensor): Its input.
        mode (str): ``'infer'`` (eval, no grad) or ``'train'`` (train mode,
            backward of a fixed random output gradient).
        dtype (torch.dtype): float32, or the dtype to autocast to.

    Returns:
        Callable[[], None]: The call.
    """
    device = x.device.type
    autocast = (
        torch.autocast(device, dtype=dtype)
        if dtype != torch.float32 else nullcontext())
    if mode == 'infer':
        block.eval()

        def call() -> None:
            with torch.no_grad(), autocast:
                block(x)

        return call
    block.train()
    x = x.detach().requires_grad_()
    grad = torch.randn_like(x)

    def call() -> None:
        with autocast:
            out = block(x)
        out.backward(grad.to(out.dtype))
        # freed within the call: the next one allocates them again, as a
        # training step after optimizer.zero_grad() does
        block.zero_grad(set_to_none=True)
        x.grad = None

    return call


class Measurement(NamedTuple):
    """Median seconds, peak bytes, or why there is none."""
    seconds: Optional[float] = None
    peak: Optional[int] = None
    oom: Optional[str] = None


def measure_mode(
        blocks: Dict[str, nn.Module], x: torch.Tensor, case: Case, mode: str,
        dtype: torch.dtype, repeats: int, time_budget: float, budget: int,
        reference: MatmulReference) -> Tuple[Dict[str, Measurement], float]:
    """Time the blocks in one mode, interleaved call by call.

    The first call of each block warms up and gives its peak memory (a
    second untimed call follows calls under a second). Each round of
    :func:`~glore_mm.analysis.benchmark.time_interleaved` also times the
    matmul reference.

    Args:
        blocks (dict[str, nn.Module]): From :func:`build_blocks`.
        x (torch.Tensor): The input.
        case (Case): Its size.
        mode (str): ``'infer'`` or ``'train'``.
        dtype (torch.dtype): float32, or the dtype to autocast to.
        repeats (int): Timed calls per block.
        time_budget (float): Seconds of timed calls per block, about:
            slower blocks get fewer calls, at least one.
        budget (int): Bytes a call may use; blocks estimated to need more
            are not run.
        reference (MatmulReference): Timed in every round.

    Returns:
        tuple[dict[str, Measurement], float]: The blocks' measurements
        and the median rate of the reference, in multiply-adds per second.
    """
    device = x.device.type
    timer = Timer(device)
    results: Dict[str, Measurement] = {}
    calls, first = {}, {}
    for name, block in blocks.items():
        need = estimate_bytes(name, case, mode)
        if need > budget:
            results[name] = Measurement(oom=f'OOM: needs {need / GiB:.3g} GiB '
                                        f'(budget {budget / GiB:.3g})')
            continue
        call = make_call(block, x, mode, dtype)
        try:
            # the first call warms up and gives the peak memory
            start = time.perf_counter()
            peak = timer.peak_memory(call)
            first[name] = time.perf_counter() - start
            if first[name] < 1.0:
                call()
        except (RuntimeError, MemoryError) as error:
            if not is_oom(error):
                raise
            release(device)
            results[name] = Measurement(
                oom=f'OOM: needs {need / GiB:.3g} GiB (estimate), '
                'allocation failed')
            continue
        calls[name] = call
        results[name] = Measurement(peak=peak)
    # blocks slower than the time budget allows get fewer calls, never none
    counts = {
        name: max(1, min(repeats, int(time_budget / first[name])))
        for name in calls
    }
    counts[_REFERENCE] = max(counts.values(), default=1)
    calls = {_REFERENCE: reference.call, **calls}
    timings = time_interleaved(calls, counts, warmup=0, timer=timer)
    rates = []
    for timing in timings:
        if timing.name == _REFERENCE:
            rates = reference.record(timing.times)
        else:
            results[timing.name] = results[timing.name]._replace(
                seconds=timing.median)
    release(device)
    return results, statistics.median(rates)


# --------------------------------------------------------------------------
# Checks


def check_equal(blocks: Dict[str, nn.Module], case: Case, device: str) -> str:
    """Ours and the literal unit: same output and input gradient (fp32).

    Runs on copies (training moves the BN statistics) with ours' weights
    copied into the literal unit.

    Args:
        blocks (dict[str, nn.Module]): From :func:`build_blocks`.
        case (Case): The size to check at.
        device (str): Where the blocks are.

    Returns:
        str: A one-line summary.

    Raises:
        AssertionError: The two differ.
    """
    torch.manual_seed(1)
    x = torch.randn(case.shape, device=device)
    grad = torch.randn_like(x)
    lines = []
    for mode in ('train', 'eval'):
        ours = copy.deepcopy(blocks['ours']).train(mode == 'train')
        literal = LiteralGloRe.from_unit(ours).train(mode == 'train')
        inputs = [x.clone().requires_grad_() for _ in range(2)]
        outs = [block(inp) for block, inp in zip((ours, literal), inputs)]
        for out in outs:
            out.backward(grad)
        scale = (outs[1] - x).abs().max().item()
        out_err = (outs[0] - outs[1]).abs().max().item() / scale
        grad_err = ((inputs[0].grad - inputs[1].grad).abs().max() /
                    inputs[1].grad.abs().max()).item()
        if not (out_err < 1e-3 and grad_err < 1e-3):
            raise AssertionError(
                f'ours and the literal unit differ on {case.label} in '
                f'{mode} mode: output {out_err:.2e}, input gradient '
                f'{grad_err:.2e} (relative)')
        lines.append(f'{mode}: output {out_err:.1e}, input grad '
                     f'{grad_err:.1e}')
    return (f'ours == literal on {case.label} (max relative difference; ' +
            '; '.join(lines) + ')')


def check_flop_count(blocks: Dict[str, nn.Module], case: Case,
                     device: str) -> str:
    """Compare the analytic counts with the project's FLOP counter.

    :func:`~glore_mm.analysis.complexity.flop_analyzer`: mmengine's
    FlopAnalyzer with a handle for ``aten::baddbmm``, which mmengine 0.10
    lacks. Norms are left out on both sides.

    Args:
        blocks (dict[str, nn.Module]): From :func:`build_blocks`.
        case (Case): The size to count at.
        device (str): Where the blocks are.

    Returns:
        str: A one-line summary of both counts per block.
    """
    x = torch.randn(case.shape, device=device)
    parts = []
    for name, block in blocks.items():
        block.eval()
        counted = sum(
            v for k, v in flop_analyzer(block, (x, )).by_operator().items()
            if 'norm' not in k)
        parts.append(f'{name} {counted / 1e9:.3f} vs '
                     f'{count_macs(name, case) / 1e9:.3f}')
    return (f'GMAC on {case.label}, mmengine FlopAnalyzer vs analytic: ' +
            ', '.join(parts))


def benchmark_cases(
        cases: List[Case],
        device: str,
        dtype: torch.dtype,
        repeats: int,
        time_budget: float,
        budget: int,
        reference: MatmulReference,
        log: Callable[[str], None] = print) -> Tuple[List[Dict], List[str]]:
    """Measure every case; check the blocks first for each dimensionality.

    On the first case of each dimensionality :func:`check_equal` and
    :func:`check_flop_count` run; their summaries are logged and returned
    as notes. A line per case and mode is logged as it is measured.

    Args:
        cases (list[Case]): From :func:`make_cases`.
        device (str): ``'cpu'`` or ``'cuda'``.
        dtype (torch.dtype): float32, or the dtype to autocast to.
        repeats (int): Timed calls per block.
        time_budget (float): Seconds of timed calls per block and mode.
        budget (int): Bytes a call may use.
        reference (MatmulReference): The machine's dense matmul.
        log (Callable[[str], None]): Where progress goes. Defaults to
            ``print``.

    Returns:
        tuple[list[dict], list[str]]: A record per case (``case``,
        ``infer`` and ``train``: measurements by block, ``infer_rate``
        and ``train_rate``: the reference's median rate) and the checks'
        notes.
    """
    records, notes, blocks, checked = [], [], {}, set()
    for case in cases:
        key = (case.dims, case.channels)
        if key not in blocks:
            blocks[key] = build_blocks(case.dims, case.channels, device)
        if case.dims not in checked:
            checked.add(case.dims)
            for note in (check_equal(blocks[key], case, device),
                         check_flop_count(blocks[key], case, device)):
                log(note)
                notes.append(note)
        x = torch.randn(case.shape, device=device)
        record = dict(case=case, infer={}, train={})
        for mode in case.modes:
            record[mode], record[mode + '_rate'] = measure_mode(
                blocks[key], x, case, mode, dtype, repeats, time_budget,
                budget, reference)
            summary = ', '.join(f'{name} {_ms(m)}'
                                for name, m in record[mode].items())
            log(f'{case.name} {case.label} {mode}: {summary} (ms)')
        records.append(record)
        del x
    return records, notes


# --------------------------------------------------------------------------
# Output


def _ms(m: Optional[Measurement]) -> str:
    if m is None:
        return '-'
    return m.oom or f'{m.seconds * 1e3:.1f}'


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
                _ms(infer),
                _ms(train),
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
