# Copyright (c) glore_mm contributors. All rights reserved.
"""Speed and memory of the GloRe unit, the paper's literal unit, Non-local.

The machinery of ``tools/analysis_tools/benchmark_units.py``. Three blocks
that all map ``[N, C, *spatial]`` to the same shape run side by side in one
process, for each size (:class:`Case`):

- ``ours``: :class:`GloRe2d` / :class:`GloRe3d` from glore_mm;
- ``literal``: :class:`~glore_mm.analysis.reference.LiteralGloRe`, the unit
  as the paper and the authors' code write it, with ours' weights. It
  computes the same function as ours; :func:`check_equal` checks that;
- ``nonlocal``: mmcv's ``NonLocal2d`` / ``NonLocal3d``, embedded Gaussian,
  reduction 2, BN after the output conv: the block of mmseg's NLHead.

One module per concern: :mod:`.cases` (blocks, sizes, analytic
multiply-adds and memory), :mod:`.checks` (ours against the literal unit,
the counts against the FLOP counter), :mod:`.measure` (timing and memory
of the calls, the run over the sizes) and :mod:`.output` (tables, JSON,
plot).
"""
from .cases import (BOTH, IMPLS, TRAIN, Case, build_blocks, count_macs,
                    estimate_bytes, make_cases)
from .checks import check_equal, check_flop_count
from .measure import (Measurement, benchmark_cases, format_ms, make_call,
                      measure_mode)
from .output import (RATIO_COLUMNS, RESULT_COLUMNS, plot_sweep, ratio_rows,
                     report, result_rows, sweep_title, to_json)

__all__ = [
    'BOTH', 'IMPLS', 'RATIO_COLUMNS', 'RESULT_COLUMNS', 'TRAIN', 'Case',
    'Measurement', 'benchmark_cases', 'build_blocks', 'check_equal',
    'check_flop_count', 'count_macs', 'estimate_bytes', 'format_ms',
    'make_call', 'make_cases', 'measure_mode', 'plot_sweep', 'ratio_rows',
    'report', 'result_rows', 'sweep_title', 'to_json'
]
