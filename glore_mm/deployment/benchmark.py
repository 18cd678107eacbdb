# Copyright (c) glore_mm contributors. All rights reserved.
"""ONNX Runtime against PyTorch latency, side by side on one machine.

The two runtimes are timed interleaved, one call each per round (their
order alternating between rounds), so that load from other processes
falls on both alike; each round's wall time is kept, and the median and
the range are reported with the ratio of the medians.
"""
from typing import List, Tuple

import numpy as np
import torch
from torch import nn

from glore_mm.analysis.benchmark import Timing, time_interleaved
from .runtime import run_ort


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


def format_timings(timings: List[Timing]) -> str:
    """One line per runtime and the ratio of the medians."""
    lines = [timing.describe() for timing in timings]
    if len(timings) == 2:
        ratio = timings[1].median / timings[0].median
        lines.append(f'{timings[1].name} / {timings[0].name} (medians): '
                     f'{ratio:.2f}')
    return '\n'.join(lines)
