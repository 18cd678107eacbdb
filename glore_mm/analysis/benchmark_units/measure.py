# Copyright (c) glore_mm contributors. All rights reserved.
"""How the unit benchmark measures: calls, timing, memory, the run.

:func:`measure_mode` times the blocks of one size in one mode, interleaved
call by call with a dense matmul, after a first call that gives each
block's peak memory; blocks whose estimated memory
(:func:`~.cases.estimate_bytes`) exceeds the budget are not run and are
reported as ``OOM: needs X GiB``, and a run that fails to allocate is
reported likewise. :func:`benchmark_cases` measures every size, after the
checks of :mod:`.checks` on the first size of each dimensionality.
"""
import statistics
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn

from ..benchmark import (GiB, MatmulReference, Timer, is_oom, release,
                         time_interleaved)
from .cases import Case, build_blocks, estimate_bytes
from .checks import check_equal, check_flop_count

# the dense matmul's name among the blocks' calls of a round
_REFERENCE = 'dense matmul'


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


def format_ms(m: Optional[Measurement]) -> str:
    """Milliseconds of a measurement, its OOM note, or ``'-'`` for none."""
    if m is None:
        return '-'
    return m.oom or f'{m.seconds * 1e3:.1f}'


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
            summary = ', '.join(f'{name} {format_ms(m)}'
                                for name, m in record[mode].items())
            log(f'{case.name} {case.label} {mode}: {summary} (ms)')
        records.append(record)
        del x
    return records, notes
