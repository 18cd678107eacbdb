# Copyright (c) glore_mm contributors. All rights reserved.
"""Analysis shared by the tools: finding a model's GloRe units and counting
its parameters and FLOPs, every product of the units included; the paper's
literal unit as a reference; timing and memory of calls for the
benchmarks (:mod:`.benchmark`, with the unit and model benchmarks in
:mod:`.benchmark_units` and :mod:`.benchmark_models`); tables and the
machine for reports."""
from .benchmark import (DTYPES, MatmulReference, Timer, Timing,
                        benchmark_machine, memory_budget, setup_device,
                        time_interleaved)
from .complexity import (TensorForward, analyse_config_model,
                         baddbmm_flop_jit, count_complexity, flop_analyzer,
                         glore_units_of, remove_units)
from .reference import LiteralGCN, LiteralGloRe, literal_glore, randomize_gate

__all__ = [
    'DTYPES', 'LiteralGCN', 'LiteralGloRe', 'MatmulReference',
    'TensorForward', 'Timer', 'Timing', 'analyse_config_model',
    'baddbmm_flop_jit', 'benchmark_machine', 'count_complexity',
    'flop_analyzer', 'glore_units_of', 'literal_glore', 'memory_budget',
    'randomize_gate', 'remove_units', 'setup_device', 'time_interleaved'
]
