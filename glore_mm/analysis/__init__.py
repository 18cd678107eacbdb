# Copyright (c) glore_mm contributors. All rights reserved.
"""Analysis shared by the tools: finding a model's GloRe units and counting
its parameters and FLOPs, every product of the units included."""
from .complexity import (TensorForward, analyse_config_model,
                         baddbmm_flop_jit, count_complexity, flop_analyzer,
                         glore_units_of, remove_units)

__all__ = [
    'TensorForward', 'analyse_config_model', 'baddbmm_flop_jit',
    'count_complexity', 'flop_analyzer', 'glore_units_of', 'remove_units'
]
