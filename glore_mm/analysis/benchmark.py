# Copyright (c) glore_mm contributors. All rights reserved.
"""Timing and memory of calls, shared by the benchmarks.

Calls are timed interleaved: one call of each per round, their order
reversed every other round, so that load from other processes falls on all
of them alike and their ratios stay meaningful on a busy machine. On the
CPU a call takes ``time.perf_counter``'s wall time and its peak memory is
summed from the CPU allocator's events recorded by ``torch.profiler``; on
CUDA the time is that of CUDA events and the peak is
``torch.cuda.max_memory_allocated``. A dense matmul timed in the same
rounds (:class:`MatmulReference`) gives the rate the machine achieves at
that moment.
"""
import os
import statistics
import time
from contextlib import contextmanager
from typing import (Callable, Dict, Iterator, List, Mapping, NamedTuple,
                    Optional, Union)

import torch

from .report import machine_info

DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16, 'fp16': torch.float16}
GiB = 1024**3
MiB = 1024**2
# kineto (behind torch.profiler) logs from level 0 (verbose) to 5 (USDT);
# at 6 it prints nothing
_KINETO_SILENT = '6'


def setup_device(device: str, threads: Optional[int] = None) -> None:
    """Make ``device`` ready for a benchmark.

    Sets torch's CPU threads if ``threads`` is given. On CUDA, TF32 is
    turned off, so that fp32 is fp32 for every block: cuDNN would
    otherwise run convs in TF32 and leave matmuls in fp32.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
        threads (int, optional): For ``torch.set_num_threads``. Defaults
            to None (torch's own).

    Raises:
        RuntimeError: ``device`` is ``'cuda'`` and CUDA is not available.
    """
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError(
            '--device cuda was given, but torch.cuda.is_available() is '
            f'False (torch {torch.__version__}, built with CUDA '
            f'{torch.version.cuda}); run on a machine with a GPU or use '
            '--device cpu')
    if threads:
        torch.set_num_threads(threads)
    if device == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def benchmark_machine(device: str, dtype: str = 'fp32') -> Dict[str, str]:
    """:func:`~glore_mm.analysis.report.machine_info` and the settings.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
        dtype (str): A key of :data:`DTYPES`. Defaults to ``'fp32'``.

    Returns:
        dict[str, str]: The machine, then ``device``, ``dtype`` and, on
        CUDA, ``tf32`` (off, see :func:`setup_device`).
    """
    info = machine_info(device)
    info.update(device=device, dtype=dtype)
    if device == 'cuda':
        info['tf32'] = 'off'
    return info


@contextmanager
def _quiet_profiler() -> Iterator[None]:
    """Keep kineto's log lines (``profiler_start``...) off stderr.

    kineto reads ``KINETO_LOG_LEVEL`` once, when the process's first
    profiler starts; a level set by the user is kept.
    """
    if 'KINETO_LOG_LEVEL' in os.environ:
        yield
        return
    os.environ['KINETO_LOG_LEVEL'] = _KINETO_SILENT
    try:
        yield
    finally:
        os.environ.pop('KINETO_LOG_LEVEL', None)


class Timer:
    """Wall time (CPU) or CUDA-event time of a call, and its peak memory.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
    """

    def __init__(self, device: str) -> None:
        self.device = device

    def time(self, fn: Callable[[], None]) -> float:
        """Seconds of one call of ``fn``."""
        if self.device == 'cuda':
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1e3
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def peak_memory(self, fn: Callable[[], None]) -> int:
        """Bytes allocated at the call's peak above what was before it.

        CUDA: ``torch.cuda.max_memory_allocated``. CPU: the CPU allocator's
        allocation and free events recorded by ``torch.profiler`` with
        ``profile_memory=True``, summed in time order.
        """
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            fn()
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() - before
        from torch.profiler import ProfilerActivity, profile
        with _quiet_profiler(), profile(
                activities=[ProfilerActivity.CPU],
                profile_memory=True) as prof:
            fn()
        events = [(e.start_ns(), e.nbytes())
                  for e in prof.profiler.kineto_results.events()
                  if e.name() == '[memory]'
                  and e.device_type() == torch.autograd.DeviceType.CPU]
        live = peak = 0
        for _, nbytes in sorted(events):
            live += nbytes
            peak = max(peak, live)
        return peak


class Timing(NamedTuple):
    """The times of one call, in seconds."""
    name: str
    times: List[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def describe(self) -> str:
        """``name median X ms (min, max, runs)`` on one line."""
        return (f'{self.name:<12} median {self.median * 1e3:10.1f} ms  '
                f'(min {min(self.times) * 1e3:.1f}, max '
                f'{max(self.times) * 1e3:.1f}, {len(self.times)} runs)')


def time_interleaved(calls: Dict[str, Callable[[], None]],
                     repeats: Union[int, Mapping[str, int]],
                     warmup: int = 1,
                     timer: Optional[Timer] = None) -> List[Timing]:
    """Time each call ``repeats`` times, interleaved round by round.

    Every round times one call of each that has rounds left, in the order
    of ``calls`` in even rounds and in the reverse order in odd ones.

    Args:
        calls (dict[str, Callable]): Name to a call without arguments.
        repeats (int | Mapping[str, int]): Timed calls of each, or per
            name; a call with fewer sits out the last rounds.
        warmup (int): Untimed calls of each first. Defaults to 1.
        timer (Timer, optional): What times a call. Defaults to
            ``Timer('cpu')``: ``time.perf_counter``.

    Returns:
        list[Timing]: One per call, in the order of ``calls``.
    """
    names = list(calls)
    if isinstance(repeats, Mapping):
        counts = {name: repeats[name] for name in names}
    else:
        counts = dict.fromkeys(names, repeats)
    if warmup < 0 or any(count < 1 for count in counts.values()):
        raise ValueError(f'repeats must be >= 1 and warmup >= 0, but got '
                         f'repeats={repeats}, warmup={warmup}')
    timer = timer or Timer('cpu')
    for _ in range(warmup):
        for name in names:
            calls[name]()
    times: Dict[str, List[float]] = {name: [] for name in names}
    for round_index in range(max(counts.values(), default=0)):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            if round_index < counts[name]:
                times[name].append(timer.time(calls[name]))
    return [Timing(name, times[name]) for name in names]


class MatmulReference:
    """A dense matmul, timed between the blocks: the machine's rate now.

    On a machine shared with other jobs the achievable rate moves during a
    run; dividing by a reference timed in the same rounds as the blocks
    keeps the "% matmul" columns honest. :meth:`call` is timed among the
    blocks; :meth:`record` turns its times into rates and keeps them.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
        dtype (torch.dtype): Of the matrices.
        quick (bool): 512x512 matrices instead of 2048 (CPU) or 8192
            (CUDA).
    """

    def __init__(self, device: str, dtype: torch.dtype, quick: bool) -> None:
        self.size = 512 if quick else (8192 if device == 'cuda' else 2048)
        self.dtype = str(dtype).replace('torch.', '')
        self.a, self.b, self.out = (
            torch.randn(self.size, self.size, device=device, dtype=dtype)
            for _ in range(3))
        self.rates: List[float] = []
        for _ in range(2):
            self.call()

    def call(self) -> None:
        torch.mm(self.a, self.b, out=self.out)

    def record(self, times: List[float]) -> List[float]:
        """Multiply-adds per second of calls that took ``times`` seconds."""
        rates = [self.size**3 / seconds for seconds in times]
        self.rates.extend(rates)
        return rates


def is_oom(error: BaseException) -> bool:
    """Whether ``error`` says that an allocation failed."""
    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(error)
    return any(
        s in text for s in ("can't allocate memory", 'out of memory',
                            'not enough memory'))


def release(device: str) -> None:
    """Return the memory the CUDA caching allocator holds, on CUDA."""
    if device == 'cuda':
        torch.cuda.empty_cache()


def memory_budget(device: str, limit_gb: Optional[float] = None) -> int:
    """Bytes a call may use: ``limit_gb``, else 80% of what is free.

    Args:
        device (str): ``'cpu'`` (``MemAvailable``) or ``'cuda'`` (free GPU
            memory).
        limit_gb (float, optional): The budget in GiB. Defaults to None.

    Returns:
        int: The budget in bytes.
    """
    if limit_gb is not None:
        return int(limit_gb * GiB)
    if device == 'cuda':
        return int(0.8 * torch.cuda.mem_get_info()[0])
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(0.8 * int(line.split()[1]) * 1024)
    except OSError:
        pass
    return int(0.8 * os.sysconf('SC_PAGE_SIZE') *
               os.sysconf('SC_AVPHYS_PAGES'))
