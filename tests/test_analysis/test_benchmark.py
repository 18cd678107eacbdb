# Copyright (c) glore_mm contributors. All rights reserved.
"""The timing and memory machinery of the benchmarks."""
import os.path as osp

import pytest
import torch

from glore_mm.analysis.benchmark import (GiB, MatmulReference, Timer,
                                         benchmark_machine, memory_budget,
                                         setup_device, time_interleaved)
from glore_mm.analysis.report import command_line, machine_line


class _Clock(Timer):
    """A timer on which every call takes one second."""

    def __init__(self) -> None:
        super().__init__('cpu')

    def time(self, fn) -> float:
        fn()
        return 1.0


def _calls(log, names):
    return {name: (lambda name=name: log.append(name)) for name in names}


def test_time_interleaved_alternates_the_order():
    log = []
    timings = time_interleaved(_calls(log, 'abc'), 3, warmup=1)
    # the warm-up round, then rounds in order, reversed, in order
    assert ''.join(log) == 'abc' + 'abc' + 'cba' + 'abc'
    assert [t.name for t in timings] == ['a', 'b', 'c']
    assert all(len(t.times) == 3 and min(t.times) >= 0 for t in timings)


def test_time_interleaved_repeats_per_call():
    log = []
    timings = time_interleaved(
        _calls(log, 'abc'), {
            'a': 3,
            'b': 1,
            'c': 2
        }, warmup=0, timer=_Clock())
    assert ''.join(log) == 'abc' + 'ca' + 'a'
    assert [len(t.times) for t in timings] == [3, 1, 2]
    assert timings[0].median == 1.0


@pytest.mark.parametrize('repeats, warmup', [(0, 1), (2, -1), ({'a': 0}, 0)])
def test_time_interleaved_rejects_bad_counts(repeats, warmup):
    with pytest.raises(ValueError, match='repeats must be >= 1'):
        time_interleaved(_calls([], 'a'), repeats, warmup=warmup)


def test_timing_describes_itself():
    log = []
    timing, = time_interleaved(_calls(log, ['PyTorch']), 2, timer=_Clock())
    assert timing.describe() == (
        'PyTorch      median     1000.0 ms  (min 1000.0, max 1000.0, '
        '2 runs)')


def test_peak_memory_counts_what_the_call_allocates():
    timer = Timer('cpu')
    kept = []

    def call() -> None:
        # 1 MiB alive at the end, 4 MiB more for a moment
        kept.append(torch.empty(256 * 1024))
        torch.ones(1024 * 1024).sum()

    peak = timer.peak_memory(call)
    assert 5 * 1024**2 <= peak < 6 * 1024**2


def test_matmul_reference_records_rates():
    reference = MatmulReference('cpu', torch.float32, quick=True)
    assert reference.size == 512 and reference.dtype == 'float32'
    assert reference.record([0.5, 2.0]) == [512**3 * 2, 512**3 / 2]
    assert reference.rates == [512**3 * 2, 512**3 / 2]


def test_memory_budget():
    assert memory_budget('cpu', 0.5) == GiB // 2
    assert 0 < memory_budget('cpu') < 1024 * GiB


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error')
def test_setup_device_without_cuda():
    with pytest.raises(
            RuntimeError, match=r'torch.cuda.is_available\(\) is False'):
        setup_device('cuda')


def test_machine_and_command_lines():
    info = benchmark_machine('cpu', 'bf16')
    assert info['device'] == 'cpu' and info['dtype'] == 'bf16'
    assert info['threads'] == str(torch.get_num_threads())
    assert machine_line(info).startswith(f"Machine: cpu {info['cpu']}, ")
    assert command_line(osp.abspath('tools/x.py'), ['--a', '1']) == \
        'python tools/x.py --a 1'
