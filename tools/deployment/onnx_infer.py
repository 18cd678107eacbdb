# Copyright (c) glore_mm contributors. All rights reserved.
"""Run an exported model in ONNX Runtime or OpenVINO beside PyTorch.

Give ``--verify``, ``--eval``, ``--bench`` or several. The float model
(``--onnx``, else exported now to a temporary file at ``--shape``) runs in
each ``--backend``; ``--int8 FILE`` adds a model quantised by
``tools/deployment/quantize.py``, run in each back end too.

``--verify``: each back end against PyTorch at three input sizes (the
export size, one where the GloRe units take their other product order,
another), as ``pytorch2onnx.py --verify`` does; a float model must agree
within 1e-4 (relative) on random inputs, an INT8 one within
``--int8-rtol`` on test images resized to each size. Exits with 1 if one
does not.

``--eval``: a segmentation config's test set through PyTorch and each
model, each scored by the config's test evaluator (mmseg's ``IoUMetric``);
prints every mIoU and how many pixels each labels as PyTorch does, and
exits with 1 if a float model's mIoU differs from PyTorch's by more than
``--max-miou-diff``, or an INT8 model's by more than ``--max-int8-drop``.

``--bench``: latency of PyTorch and of each model, timed interleaved on
the same random input, at each ``--threads``; prints the median and range
of each, the ratio to PyTorch and a markdown table with the machine.
Without CHECKPOINT the weights are random (what latency needs).

Examples:
    python tools/deployment/onnx_infer.py \\
        configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py \\
        work_dirs/glore_r18-d8_1xb8-1k_brain-mri-128x128/iter_1000.pth \\
        --onnx work_dirs/brain_mri.onnx --int8 work_dirs/brain_mri_int8.onnx \\
        --backend onnxruntime openvino --verify --eval
    python tools/deployment/onnx_infer.py \\
        configs/mmseg/glore_r50-d8_4xb2-40k_cityscapes-512x1024.py \\
        --bench --backend onnxruntime openvino --shape 512 1024 \\
        --threads 1 2 --repeats 5
"""
import argparse
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import DictAction

from glore_mm.analysis.report import command_line, machine_info, machine_line
from glore_mm.apis import init_model, load_config
from glore_mm.deployment import (calibration_inputs, check_tool_inputs,
                                 default_size, evaluate_segmentation,
                                 export_from_config, format_checks,
                                 format_summary, input_channels, input_shape,
                                 load_runtime, random_input, resized_inputs,
                                 summarize_onnx, verify_onnx, wrap_for_export)
from glore_mm.deployment.benchmark import (benchmark_runtimes, format_timings,
                                           timings_table)
from glore_mm.deployment.onnx_export import (DEFAULT_EXPORTER, DEFAULT_OPSET,
                                             EXPORTERS)
from glore_mm.deployment.runtime import (BACKENDS, DEFAULT_BACKEND, PRECISIONS,
                                         TORCH)
from glore_mm.deployment.verify import RTOL
from glore_mm.utils import BAD_INPUT_ERRORS, refuse_bad_input


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='ONNX Runtime or OpenVINO beside PyTorch: agreement '
        '(--verify), a segmentation test set (--eval), latency (--bench)')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (needed by --verify and --eval; --bench '
        'without one uses random weights)')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare each model with PyTorch at three sizes')
    parser.add_argument(
        '--eval',
        action='store_true',
        help='evaluate the test set through PyTorch and each model (mmseg)')
    parser.add_argument(
        '--bench', action='store_true', help='time PyTorch and each model')
    parser.add_argument(
        '--onnx',
        help='the float .onnx file of the same model (default: export now '
        'to a temporary file)')
    parser.add_argument(
        '--int8',
        help='also run this INT8 .onnx file of the same model '
        '(tools/deployment/quantize.py)')
    parser.add_argument(
        '--backend',
        nargs='+',
        choices=BACKENDS,
        default=[DEFAULT_BACKEND],
        help=f'back ends to run each model in (default: {DEFAULT_BACKEND})')
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        default=PRECISIONS[0],
        help='float precision: f32, or the device\'s default (OpenVINO: '
        'bf16 on CPUs with bf16 instructions; ONNX Runtime: f32). Default: '
        'f32')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input size: H W or T H W; the --bench input, the --verify '
        'export size and the size a missing --onnx is traced with '
        '(default: as tools/deployment/pytorch2onnx.py)')
    parser.add_argument(
        '--batch', type=int, default=1, help='--bench batch (default: 1)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=10,
        help='--bench: timed runs of each (default: 10)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=1,
        help='--bench: untimed runs of each first (default: 1)')
    parser.add_argument(
        '--threads',
        type=int,
        nargs='+',
        help='threads of PyTorch and the back ends; several values time '
        '--bench at each (default: torch.get_num_threads())')
    parser.add_argument(
        '--max-miou-diff',
        type=float,
        default=0.1,
        help='--eval: largest mIoU difference (points) of a float model '
        'from PyTorch that passes (default: 0.1)')
    parser.add_argument(
        '--max-int8-drop',
        type=float,
        default=1.0,
        help='--eval: largest mIoU difference (points) of the INT8 model '
        'from PyTorch that passes (default: 1.0)')
    parser.add_argument(
        '--int8-rtol',
        type=float,
        default=0.05,
        help='--verify: largest relative difference of the INT8 model from '
        'PyTorch that passes (default: 0.05)')
    parser.add_argument(
        '--verify-samples',
        type=int,
        default=4,
        help='--verify of --int8: the first N test images (at most), '
        'resized to each size (default: 4)')
    parser.add_argument(
        '--opset',
        type=int,
        default=DEFAULT_OPSET,
        help=f'opset of the export (default: {DEFAULT_OPSET})')
    parser.add_argument(
        '--exporter',
        choices=EXPORTERS,
        default=DEFAULT_EXPORTER,
        help=f'torch.onnx back end of the export (default: '
        f'{DEFAULT_EXPORTER})')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if not (args.verify or args.eval or args.bench):
        parser.error('give --verify, --eval, --bench or several')
    if (args.eval or args.verify) and args.checkpoint is None:
        parser.error('--verify and --eval need CHECKPOINT: PyTorch and the '
                     'exported models must run the same trained weights')
    if len(set(args.backend)) != len(args.backend):
        parser.error(f'--backend {" ".join(args.backend)}: name each back '
                     'end once')
    for name in ('batch', 'repeats', 'verify_samples'):
        value = getattr(args, name)
        if value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, but got '
                         f'{value}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, but got {args.warmup}')
    for threads in args.threads or []:
        if threads < 1:
            parser.error(f'--threads must be >= 1, but got {threads}')
    if args.threads and len(args.threads) > 1 and (args.eval or args.verify):
        parser.error(f'--threads {" ".join(map(str, args.threads))}: '
                     'several values are for --bench alone')
    if not args.int8_rtol > 0:
        parser.error(f'--int8-rtol must be > 0, but got {args.int8_rtol}')
    return parser, args


def load_runtimes(args: argparse.Namespace, models: Dict[str, str],
                  threads: Optional[int]) -> list:
    """Every model in every back end, float models first."""
    return [
        load_runtime(path, backend, threads, args.precision)
        for path in models.values() for backend in args.backend
    ]


def verify(args: argparse.Namespace, cfg, module, spec,
           models: Dict[str, str]) -> int:
    shape = input_shape(spec, 2, input_channels(cfg), args.shape
                        or default_size(cfg, spec))
    dynamic = bool(summarize_onnx(models['float']).dynamic_axes())
    threads = args.threads and args.threads[0]
    failed = 0
    for kind, path in models.items():
        make_input, rtol = random_input, RTOL
        if kind == 'int8':
            # an INT8 model is checked on inputs like its calibration set
            make_input = resized_inputs(
                calibration_inputs(
                    cfg, module.model, args.verify_samples, exact=False))
            rtol = args.int8_rtol
        for backend in args.backend:
            runtime = load_runtime(path, backend, threads, args.precision)
            checks = verify_onnx(
                module,
                runtime,
                shape,
                spec,
                dynamic,
                make_input=make_input,
                rtol=rtol)
            print(format_checks(checks, runtime))
            failed += not all(check.passed for check in checks)
    total = len(models) * len(args.backend)
    if failed:
        print(f'verification FAILED for {failed} of {total} models')
        return 1
    print(f'verification passed for {total} models')
    return 0


def evaluate(args: argparse.Namespace, cfg, module, models: Dict[str,
                                                                 str]) -> int:
    threads = args.threads and args.threads[0]
    runtimes = load_runtimes(args, models, threads)
    result = evaluate_segmentation(cfg, module.model, runtimes)
    torch_miou = result.metrics[TORCH]['mIoU']
    status = 0
    for name, metrics in result.metrics.items():
        print(f'{name:<20} ' + ', '.join(f'{key}: {value:.2f}'
                                         for key, value in metrics.items()))
    for runtime in runtimes:
        same = result.same_pixels[runtime.name]
        diff = result.metrics[runtime.name]['mIoU'] - torch_miou
        bound = args.max_int8_drop if runtime.quantized else (
            args.max_miou_diff)
        print(f'{runtime.name}: pixels labelled as PyTorch does: {same} of '
              f'{result.pixels} ({100 * same / max(result.pixels, 1):.4f} '
              f'%); mIoU {diff:+.2f} points')
        if abs(diff) > bound:
            print(f'{runtime.name}: mIoU differs from PyTorch\'s by more '
                  f'than {bound} points')
            status = 1
    return status


def bench(args: argparse.Namespace, cfg, module, spec,
          models: Dict[str, str]) -> int:
    shape = input_shape(spec, args.batch, input_channels(cfg), args.shape
                        or default_size(cfg, spec))
    weights = args.checkpoint or 'random (no checkpoint)'
    print(f'input {list(shape)}, weights: {weights}')
    results = {}
    for threads in args.threads or [torch.get_num_threads()]:
        torch.set_num_threads(threads)
        runtimes = load_runtimes(args, models, threads)
        results[threads] = benchmark_runtimes(module, runtimes, shape,
                                              args.repeats, args.warmup)
        print(f'threads: {threads}')
        print(format_timings(results[threads]))
    packages = ('onnxruntime', ) + tuple(
        b for b in args.backend if b != 'onnxruntime')
    info = machine_info('cpu', None, packages)
    info['threads'] = ' and '.join(map(str, results))
    print()
    print(command_line(__file__))
    print(machine_line(info))
    print(timings_table(results))
    return 0


def _prepare(args: argparse.Namespace, cfg, tmp_dir: str):
    """The PyTorch module, its spec and the ONNX files to run by kind."""
    if args.onnx is not None:
        module, spec = wrap_for_export(cfg, init_model(cfg, args.checkpoint))
        path = args.onnx
    else:
        path = osp.join(tmp_dir, 'model.onnx')
        exported = export_from_config(
            cfg,
            args.checkpoint,
            path,
            args.shape,
            opset=args.opset,
            exporter=args.exporter)
        print(f'exported with input {list(exported.shape)} (dynamic axes, '
              f'{args.exporter} exporter, opset {args.opset})')
        module, spec = exported.module, exported.spec
    models = {'float': path}
    if args.int8 is not None:
        models['int8'] = args.int8
    return module, spec, models


def main(argv: Optional[List[str]] = None) -> int:
    parser, args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads[0])
    with refuse_bad_input(parser, BAD_INPUT_ERRORS + (ImportError, )):
        check_tool_inputs(
            args.backend,
            args.precision, {
                '--onnx': args.onnx,
                '--int8': args.int8
            },
            quantized=['--int8'])
        cfg = load_config(args.config, args.cfg_options)
        if args.eval and cfg.get('default_scope', None) != 'mmseg':
            raise ValueError(
                f'--eval evaluates segmentation configs (default_scope='
                f"'mmseg'), but {args.config} has default_scope="
                f"{cfg.get('default_scope', None)!r}")
    with tempfile.TemporaryDirectory() as tmp_dir:
        with refuse_bad_input(parser):
            module, spec, models = _prepare(args, cfg, tmp_dir)
        for path in models.values():
            print(format_summary(summarize_onnx(path), path))
        status = 0
        if args.verify:
            status = verify(args, cfg, module, spec, models)
        if args.eval:
            status = max(status, evaluate(args, cfg, module, models))
        if args.bench:
            status = max(status, bench(args, cfg, module, spec, models))
        return status


if __name__ == '__main__':
    raise SystemExit(main())
