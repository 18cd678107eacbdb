# Copyright (c) glore_mm contributors. All rights reserved.
"""Latency of the back ends against PyTorch, side by side on one machine.

PyTorch and every back end are timed interleaved
(:func:`~glore_mm.analysis.benchmark.time_interleaved`), one call each
per round (their order alternating between rounds), so that load from
other processes falls on all alike; each round's wall time is kept, and
the median and the range are reported with each one's median over
PyTorch's.
"""
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from glore_mm.analysis.benchmark import Timing, time_interleaved
from glore_mm.analysis.report import markdown_table
from .runtime import TORCH, Runtime, runtime_names


def benchmark_runtimes(module: nn.Module,
                       runtimes: Sequence[Runtime],
                       shape: Tuple[int, ...],
                       repeats: int,
                       warmup: int = 1,
                       seed: int = 0) -> List[Timing]:
    """Latency of ``module`` (PyTorch, eval mode) and of its exports.

    All run the same random input of ``shape``: PyTorch under
    ``torch.inference_mode``, the back ends on a float32 array.

    Args:
        module (nn.Module): The exported tensor function, in eval mode.
        runtimes (Sequence[Runtime]): Its ONNX models in their back ends,
            each with its own name (:attr:`Runtime.name`).
        shape (tuple[int]): Input shape.
        repeats (int): Timed calls of each.
        warmup (int): Untimed calls of each first. Defaults to 1.
        seed (int): Seed of the input. Defaults to 0.

    Returns:
        list[Timing]: PyTorch's, then one per runtime in their order.

    Raises:
        ValueError: If two runtimes have the same name.
    """
    names = runtime_names(runtimes)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    array = np.ascontiguousarray(x.numpy())

    def torch_call() -> None:
        with torch.inference_mode():
            module(x)

    calls: Dict[str, Callable[[], None]] = {TORCH: torch_call}
    for name, runtime in zip(names, runtimes):
        calls[name] = lambda runtime=runtime: runtime(array)
    return time_interleaved(calls, repeats, warmup)


def format_timings(timings: List[Timing]) -> str:
    """One line per runtime, then each median over the first's."""
    lines = [timing.describe() for timing in timings]
    first = timings[0]
    for timing in timings[1:]:
        ratio = timing.median / first.median
        lines.append(f'{timing.name} / {first.name} (medians): {ratio:.2f}')
    return '\n'.join(lines)


def timings_table(timings: Dict[int, List[Timing]]) -> str:
    """A markdown table of :func:`benchmark_runtimes` at several threads.

    Args:
        timings (dict): Threads to the timings at that many, PyTorch's
            first.

    Returns:
        str: One row per threads and runtime: the median, the range, the
        runs and the median over PyTorch's at the same threads.
    """
    rows = []
    for threads, results in timings.items():
        first = results[0]
        for timing in results:
            rows.append([
                threads, timing.name, f'{timing.median * 1e3:.1f}',
                f'{min(timing.times) * 1e3:.1f}-'
                f'{max(timing.times) * 1e3:.1f}',
                len(timing.times), f'{timing.median / first.median:.2f}'
            ])
    return markdown_table([
        'threads', 'runtime', 'median (ms)', 'range (ms)', 'runs', f'/ {TORCH}'
    ], rows)
