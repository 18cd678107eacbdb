# Copyright (c) glore_mm contributors. All rights reserved.
"""ONNX Runtime against PyTorch latency, side by side on one machine.

The two runtimes are timed interleaved, one call each per round (their
order alternating between rounds), so that load from other processes
falls on both alike; each round's wall time is kept, and the median and
the range are reported with the ratio of the medians.
"""
import os
import platform
import statistics
import time
from typing import Callable, Dict, List, NamedTuple, Tuple

import numpy as np
import torch
from torch import nn

from .runtime import import_deploy_module, run_ort


class Timing(NamedTuple):
    """Wall times of one runtime, in seconds."""
    name: str
    times: List[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def describe(self) -> str:
        return (f'{self.name:<12} median {self.median * 1e3:10.1f} ms  '
                f'(min {min(self.times) * 1e3:.1f}, max '
                f'{max(self.times) * 1e3:.1f}, {len(self.times)} runs)')


def time_interleaved(calls: Dict[str, Callable[[], None]],
                     repeats: int,
                     warmup: int = 1) -> List[Timing]:
    """Time each call ``repeats`` times, interleaved round by round.

    Args:
        calls (dict): Name to a call without arguments.
        repeats (int): Timed calls of each.
        warmup (int): Untimed calls of each first. Defaults to 1.

    Returns:
        list[Timing]: One per call, in the order of ``calls``.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f'repeats must be >= 1 and warmup >= 0, but got '
                         f'repeats={repeats}, warmup={warmup}')
    names = list(calls)
    for _ in range(warmup):
        for name in names:
            calls[name]()
    times: Dict[str, List[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return [Timing(name, times[name]) for name in names]


def benchmark_ort_torch(module: nn.Module,
                        ort_model,
                        shape: Tuple[int, ...],
                        repeats: int,
                        warmup: int = 1,
                        seed: int = 0) -> List[Timing]:
    """Latency of ``module`` (PyTorch, eval mode) and of its export.

    Both run the same random input of ``shape``: PyTorch under
    ``torch.inference_mode``, ONNX Runtime on a float32 array.

    Args:
        module (nn.Module): The exported tensor function, in eval mode.
        ort_model (onnxruntime.InferenceSession): Its ONNX model.
        shape (tuple[int]): Input shape.
        repeats (int): Timed calls of each.
        warmup (int): Untimed calls of each first. Defaults to 1.
        seed (int): Seed of the input. Defaults to 0.

    Returns:
        list[Timing]: PyTorch's, then ONNX Runtime's.
    """
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    array = np.ascontiguousarray(x.numpy())

    def torch_call() -> None:
        with torch.inference_mode():
            module(x)

    def ort_call() -> None:
        run_ort(ort_model, array)

    return time_interleaved({
        'PyTorch': torch_call,
        'ONNX Runtime': ort_call
    }, repeats, warmup)


def machine_info(threads: int) -> Dict[str, str]:
    """CPU model, cores, threads and library versions, for the report."""
    onnxruntime = import_deploy_module('onnxruntime')
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(
        cpu=cpu,
        cores=str(os.cpu_count()),
        threads=str(threads),
        torch=torch.__version__,
        onnxruntime=onnxruntime.__version__)
    if hasattr(os, 'getloadavg'):
        info['load average'] = ' '.join(f'{v:.1f}' for v in os.getloadavg())
    return info


def format_timings(timings: List[Timing]) -> str:
    """One line per runtime and the ratio of the medians."""
    lines = [timing.describe() for timing in timings]
    if len(timings) == 2:
        ratio = timings[1].median / timings[0].median
        lines.append(f'{timings[1].name} / {timings[0].name} (medians): '
                     f'{ratio:.2f}')
    return '\n'.join(lines)
