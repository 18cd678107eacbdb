# Copyright (c) glore_mm contributors. All rights reserved.
"""Analysis shared by the tools: parameters and FLOPs of a model (every
product of the units counted), probes of what a model does to its input,
summaries of runs over seeds, the cost of a training step, the paper's
literal unit as a reference, timing and memory of calls for the benchmarks
(:mod:`.benchmark`, with the unit and model benchmarks in
:mod:`.benchmark_units` and :mod:`.benchmark_models`), tables and the
machine for reports."""
from .benchmark import (DTYPES, MatmulReference, Timer, Timing,
                        benchmark_machine, memory_budget, setup_device,
                        time_interleaved)
from .complexity import (TensorForward, analyse_config, baddbmm_flop_jit,
                         config_without_units, count_complexity, flop_analyzer,
                         remove_units)
from .cost import (action_batch, classification_batch, config_train_step_call,
                   segmentation_batch, time_train_steps, train_step_call)
from .probes import (backbone_shapes, branch_scale, module_outputs,
                     receptive_frames, receptive_widths, stage_names,
                     unit_output_scale)
from .reference import LiteralGCN, LiteralGloRe, literal_glore, randomize_gate
from .statistics import (Separation, first_step_below, mean_std, separation,
                         trailing_mean, window_mean)

__all__ = [
    'DTYPES', 'LiteralGCN', 'LiteralGloRe', 'MatmulReference', 'Separation',
    'TensorForward', 'Timer', 'Timing', 'action_batch', 'analyse_config',
    'backbone_shapes', 'baddbmm_flop_jit', 'benchmark_machine', 'branch_scale',
    'classification_batch', 'config_train_step_call', 'config_without_units',
    'count_complexity', 'first_step_below', 'flop_analyzer', 'literal_glore',
    'mean_std', 'memory_budget', 'module_outputs', 'randomize_gate',
    'receptive_frames', 'receptive_widths', 'remove_units',
    'segmentation_batch', 'separation', 'setup_device', 'stage_names',
    'time_interleaved', 'time_train_steps', 'trailing_mean', 'train_step_call',
    'unit_output_scale', 'window_mean'
]
