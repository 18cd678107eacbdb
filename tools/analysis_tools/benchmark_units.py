# Copyright (c) glore_mm contributors. All rights reserved.
"""Speed and memory of the GloRe unit, the paper's literal unit, Non-local.

Runs, side by side in one process and for each size, three blocks that all
map ``[N, C, *spatial]`` to the same shape: ``ours`` (:class:`GloRe2d` /
:class:`GloRe3d`), ``literal`` (the unit as the paper and the authors' code
write it, :class:`glore_mm.analysis.reference.LiteralGloRe`, with ours'
weights; checked to compute the same function on the first size of each
dimensionality) and ``nonlocal`` (mmcv's ``NonLocal2d`` / ``NonLocal3d``,
the block of mmseg's NLHead). Reports time, peak memory, multiply-adds and
the achieved share of a dense matmul's rate per block, and ratios of ours
to the others; plots time and memory of training steps against the number
of positions. The machinery is :mod:`glore_mm.analysis.benchmark_units`;
``docs/benchmark.md`` defines every figure.

Example:
    python tools/analysis_tools/benchmark_units.py --out-dir work_dirs/bench
    python tools/analysis_tools/benchmark_units.py --device cuda --dtype bf16
"""
import argparse
import os.path as osp
from functools import partial
from typing import List, Optional, Tuple

from glore_mm.analysis.benchmark import (DTYPES, GiB, MatmulReference,
                                         benchmark_machine, memory_budget,
                                         setup_device)
from glore_mm.analysis.benchmark_units import (benchmark_cases, make_cases,
                                               plot_sweep, report, sweep_title,
                                               to_json)
from glore_mm.analysis.report import command_line
from glore_mm.utils import atomic_write, refuse_bad_input


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='Time and memory of GloRe (ours), the literal GloRe '
        'unit and Non-local, side by side')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--dtype',
        default='fp32',
        choices=sorted(DTYPES),
        help='fp32, or autocast to bf16/fp16 (the matmul rate is then '
        'measured in that dtype)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny sizes and few repeats: checks that the tool works, '
        'the numbers mean nothing')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/benchmark_units',
        help='where benchmark_units.{md,json,png} are written')
    parser.add_argument(
        '--mem-limit-gb',
        type=float,
        help='memory budget per call; blocks estimated to need more are '
        'reported as OOM without running. Defaults to 80%% of the '
        'available memory (MemAvailable, or free GPU memory)')
    parser.add_argument(
        '--threads',
        type=int,
        help='CPU threads (torch.set_num_threads); defaults to torch\'s')
    parser.add_argument(
        '--repeats',
        type=int,
        default=5,
        help='timed calls per block after the warm-up call')
    parser.add_argument(
        '--time-budget',
        type=float,
        default=20.0,
        help='seconds of timed calls per block and mode, about: slower '
        'blocks get fewer than --repeats calls, at least one after the '
        'warm-up')
    parser.add_argument(
        '--sweep-channels',
        type=int,
        default=128,
        help='channels of the sweep over the number of positions')
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f'--repeats must be at least 1, got {args.repeats}')
    if not args.time_budget > 0:
        parser.error(f'--time-budget must be positive, got {args.time_budget}')
    if args.sweep_channels < 4:
        parser.error('--sweep-channels must be at least 4 (a unit has a '
                     f'node per 4 channels), got {args.sweep_channels}')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be at least 1, got {args.threads}')
    if args.mem_limit_gb is not None and not args.mem_limit_gb > 0:
        parser.error(
            f'--mem-limit-gb must be positive, got {args.mem_limit_gb}')
    return parser, args


def main(argv: Optional[List[str]] = None) -> None:
    parser, args = parse_args(argv)
    # a device this machine lacks is a bad --device
    with refuse_bad_input(parser, (RuntimeError, )):
        setup_device(args.device, args.threads)
    if args.quick:
        args.repeats = min(args.repeats, 2)
        args.time_budget = min(args.time_budget, 1.0)
    command = command_line(__file__, argv)
    info = benchmark_machine(args.device, args.dtype)
    budget = memory_budget(args.device, args.mem_limit_gb)
    reference = MatmulReference(args.device, DTYPES[args.dtype], args.quick)
    print(f'memory budget {budget / GiB:.2f} GiB', flush=True)

    records, notes = benchmark_cases(
        make_cases(args.quick, args.sweep_channels),
        args.device,
        DTYPES[args.dtype],
        args.repeats,
        args.time_budget,
        budget,
        reference,
        log=partial(print, flush=True))

    text = report(records, reference, info, notes, command)
    print('\n' + text)
    out = args.out_dir
    data = to_json(records, reference, info)
    atomic_write(text, osp.join(out, 'benchmark_units.md'))
    atomic_write(data, osp.join(out, 'benchmark_units.json'))
    plot_sweep(records, osp.join(out, 'benchmark_units.png'),
               sweep_title(records, info))
    print(f'\nwrote {out}/benchmark_units.{{md,json,png}}')


if __name__ == '__main__':
    main()
