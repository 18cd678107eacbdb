# Copyright (c) glore_mm contributors. All rights reserved.
"""Analysis shared by the tools: parameters and FLOPs of a model (every
product of the units counted), probes of what a model does to its input,
the paper's literal unit as a reference, timing and memory of calls for the
benchmarks (:mod:`.benchmark`, with the unit and model benchmarks in
:mod:`.benchmark_units` and :mod:`.benchmark_models`), tables and the
machine for reports."""
from .benchmark import (DTYPES, MatmulReference, Timer, Timing,
                        benchmark_machine, memory_budget, setup_device,
                        time_interleaved)
from .complexity import (TensorForward, analyse_config, baddbmm_flop_jit,
                         config_without_units, count_complexity, flop_analyzer,
                         remove_units)
from .reference import LiteralGCN, LiteralGloRe, literal_glore, randomize_gate

__all__ = [
    'DTYPES', 'LiteralGCN', 'LiteralGloRe', 'MatmulReference', 'TensorForward',
    'Timer', 'Timing', 'analyse_config', 'config_without_units',
    'baddbmm_flop_jit', 'benchmark_machine', 'count_complexity',
    'flop_analyzer', 'literal_glore', 'memory_budget', 'randomize_gate',
    'remove_units', 'setup_device', 'time_interleaved'
]
