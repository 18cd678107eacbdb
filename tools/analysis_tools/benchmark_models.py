# Copyright (c) glore_mm contributors. All rights reserved.
"""FCN, GloRe and Non-local segmentation models side by side.

Builds FCN-R50-D8 (mmseg), our GloRe head on the same network and mmseg's
NLHead model, each from its Cityscapes 512x1024 config, without pretrained
weights and with SyncBN turned into BN, and reports for each: parameters
and FLOPs of the inference path (backbone and decode head, as
``tools/analysis_tools/get_flops.py`` counts them), the inference latency
and peak memory at the same input (``model(inputs, mode='tensor')``), and
the time of a training step (forward with the auxiliary head, backward,
SGD step) at a smaller input that fits a workstation, with its ratio to
FCN's. The models are timed interleaved, call by call, so that load from
other processes spreads over them alike; memory is the peak allocated
during the call above what was allocated before it. The machinery is
:mod:`glore_mm.analysis.benchmark_models`.

Example:
    python tools/analysis_tools/benchmark_models.py \\
        --out-dir work_dirs/benchmark_models
    python tools/analysis_tools/benchmark_models.py --device cuda \\
        --train-shape 512 1024 --repeats 10 --out-dir work_dirs/bench_cuda
"""
import argparse
import json
import os.path as osp
from functools import partial
from typing import List, Optional, Tuple

from mmengine.registry import init_default_scope

from glore_mm.analysis.benchmark import benchmark_machine, setup_device
from glore_mm.analysis.benchmark_models import benchmark_models, report
from glore_mm.analysis.report import command_line
from glore_mm.utils import atomic_write, refuse_bad_input

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS = {
    'FCN':
    'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'GloRe':
    osp.join(REPO, 'configs', 'mmseg',
             'glore_r50-d8_4xb2-40k_cityscapes-512x1024.py'),
    'Non-local':
    'mmseg::nonlocal_net/'
    'nonlocal_r50-d8_4xb2-40k_cityscapes-512x1024.py',
}


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='FCN, GloRe and Non-local models side by side')
    parser.add_argument(
        '--infer-shape',
        type=int,
        nargs=2,
        default=[512, 1024],
        help='input height and width of the inference rows')
    parser.add_argument(
        '--train-shape',
        type=int,
        nargs=2,
        default=[256, 512],
        help='input height and width of the training step')
    parser.add_argument('--train-batch', type=int, default=2)
    parser.add_argument(
        '--repeats', type=int, default=3, help='timed calls per model')
    parser.add_argument('--threads', type=int)
    parser.add_argument(
        '--device',
        default='cpu',
        choices=['cpu', 'cuda'],
        help='cuda: CUDA-event timings, torch.cuda.max_memory_allocated, '
        'TF32 off')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny models and inputs: checks that the tool works')
    parser.add_argument('--out-dir', default='work_dirs/benchmark_models')
    args = parser.parse_args(argv)
    for option, shape in (('--infer-shape', args.infer_shape),
                          ('--train-shape', args.train_shape)):
        if min(shape) < 1:
            parser.error(f'{option} takes a height and a width of at least '
                         f'1, got {shape}')
    if args.train_batch < 1:
        parser.error(
            f'--train-batch must be at least 1, got {args.train_batch}')
    if args.repeats < 1:
        parser.error(f'--repeats must be at least 1, got {args.repeats}')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be at least 1, got {args.threads}')
    return parser, args


def main(argv: Optional[List[str]] = None) -> None:
    parser, args = parse_args(argv)
    # a device this machine lacks is a bad --device
    with refuse_bad_input(parser, (RuntimeError, )):
        setup_device(args.device, args.threads)
    if args.quick:
        args.infer_shape, args.train_shape = [32, 64], [32, 64]
        args.repeats = min(args.repeats, 2)
    infer_shape, train_shape = tuple(args.infer_shape), tuple(args.train_shape)
    command = command_line(__file__, argv)
    init_default_scope('mmseg')

    results = benchmark_models(
        MODELS,
        infer_shape,
        train_shape,
        args.train_batch,
        args.repeats,
        args.device,
        args.quick,
        log=partial(print, flush=True))
    info = benchmark_machine(args.device)
    configs = {
        n: osp.relpath(p, REPO) if osp.isabs(p) else p
        for n, p in MODELS.items()
    }
    text = report(results, info, command, infer_shape, train_shape,
                  args.train_batch, configs)
    print('\n' + text)
    atomic_write(text, osp.join(args.out_dir, 'benchmark_models.md'))
    atomic_write(
        json.dumps(dict(machine=info, results=results), indent=1),
        osp.join(args.out_dir, 'benchmark_models.json'))
    print(f'\nwrote {args.out_dir}/benchmark_models.{{md,json}}')


if __name__ == '__main__':
    main()
