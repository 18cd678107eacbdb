# Copyright (c) glore_mm contributors. All rights reserved.
"""Run an exported model in ONNX Runtime beside PyTorch.

Give ``--bench``, ``--eval`` or both.

``--bench``: ONNX Runtime against PyTorch (eval mode) latency on this CPU,
both on the same random input, timed interleaved; prints the median and
range of each and the ratio. Without CHECKPOINT the weights are random
(what latency needs).

``--eval``: a segmentation config's test set through ONNX Runtime and
through PyTorch with the same checkpoint, each scored by the config's test
evaluator (mmseg's ``IoUMetric``); prints both mIoU and how many pixels the
two label alike, and exits with 1 if the mIoU differ by more than
``--max-miou-diff``.

Without ``--onnx`` the model is first exported (dynamic axes, traced at
``--shape``) to a temporary file.

Examples:
    python tools/deployment/onnx_infer.py configs/glore_fcn_cityscapes.py \\
        --bench --shape 1024 2048 --repeats 3
    python tools/deployment/onnx_infer.py \\
        configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py \\
        work_dirs/glore_r18-d8_1xb8-1k_brain-mri-128x128/iter_1000.pth \\
        --eval --onnx work_dirs/brain_mri.onnx
"""
import argparse
import os.path as osp
import sys
import tempfile
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction

from glore_mm.analysis.report import machine_info
from glore_mm.apis import init_model
from glore_mm.deployment import (DEFAULT_EXPORTER, DEFAULT_OPSET, EXPORTERS,
                                 benchmark_ort_torch, default_size,
                                 evaluate_segmentation, export_from_config,
                                 format_summary, format_timings,
                                 input_channels, input_shape, load_ort_model,
                                 summarize_onnx, wrap_for_export)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='ONNX Runtime beside PyTorch: latency (--bench) or '
        'a segmentation test set (--eval)')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (needed by --eval; --bench without one uses '
        'random weights)')
    parser.add_argument(
        '--bench', action='store_true', help='time both runtimes')
    parser.add_argument(
        '--eval',
        action='store_true',
        help='evaluate the test set through both runtimes (mmseg)')
    parser.add_argument(
        '--onnx',
        help='an exported .onnx file of the same model (default: export '
        'now to a temporary file)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input size: H W or T H W; the --bench input and the size the '
        'export is traced with (default: as tools/deployment/'
        'pytorch2onnx.py)')
    parser.add_argument(
        '--batch', type=int, default=1, help='--bench batch (default: 1)')
    parser.add_argument(
        '--repeats',
        type=int,
        default=10,
        help='--bench: timed runs of each runtime (default: 10)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=1,
        help='--bench: untimed runs of each first (default: 1)')
    parser.add_argument(
        '--threads',
        type=int,
        help='threads of both runtimes (default: torch.get_num_threads())')
    parser.add_argument(
        '--max-miou-diff',
        type=float,
        default=0.1,
        help='--eval: largest mIoU difference (points) that passes '
        '(default: 0.1)')
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
    if not (args.bench or args.eval):
        parser.error('give --bench, --eval or both')
    if args.eval and args.checkpoint is None:
        parser.error('--eval needs CHECKPOINT: both runtimes must run the '
                     'same trained weights')
    for name in ('batch', 'repeats', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name} must be >= 1, but got {value}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, but got {args.warmup}')
    return args


def _prepare(args: argparse.Namespace, cfg: Config, tmp_dir: str):
    """The PyTorch module, its spec and the ONNX file to run."""
    if args.onnx is not None:
        module, spec = wrap_for_export(cfg, init_model(cfg, args.checkpoint))
        return module, spec, args.onnx
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
    return exported.module, exported.spec, path


def bench(args: argparse.Namespace, cfg: Config, module, spec,
          path: str) -> int:
    shape = input_shape(spec, args.batch, input_channels(cfg), args.shape
                        or default_size(cfg, spec))
    threads = torch.get_num_threads()
    ort_model = load_ort_model(path, threads)
    timings = benchmark_ort_torch(module, ort_model, shape, args.repeats,
                                  args.warmup)
    weights = args.checkpoint or 'random (no checkpoint)'
    print(f'input {list(shape)}, weights: {weights}')
    info = machine_info('cpu', threads, ('onnxruntime', ))
    print(', '.join(f'{k}: {v}' for k, v in info.items()))
    print(format_timings(timings))
    return 0


def evaluate(args: argparse.Namespace, cfg: Config, module, path: str) -> int:
    if cfg.get('default_scope', None) != 'mmseg':
        print(
            f'onnx_infer.py: error: --eval evaluates segmentation configs '
            f"(default_scope='mmseg'), but {args.config} has "
            f"default_scope={cfg.get('default_scope', None)!r}",
            file=sys.stderr)
        return 2
    ort_model = load_ort_model(path, args.threads)
    result = evaluate_segmentation(cfg, module.model, ort_model)
    for name, metrics in result.metrics.items():
        print(f'{name:<12} ' + ', '.join(f'{key}: {value:.2f}'
                                         for key, value in metrics.items()))
    torch_miou, ort_miou = (m['mIoU'] for m in result.metrics.values())
    diff = abs(torch_miou - ort_miou)
    print(f'pixels labelled alike: {result.same_pixels} of {result.pixels} '
          f'({100 * result.same_pixels / max(result.pixels, 1):.4f} %); '
          f'mIoU difference {diff:.2f} points')
    if diff > args.max_miou_diff:
        print(
            f'mIoU differ by more than --max-miou-diff '
            f'{args.max_miou_diff}',
            file=sys.stderr)
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        cfg = Config.fromfile(args.config)
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        with tempfile.TemporaryDirectory() as tmp_dir:
            module, spec, path = _prepare(args, cfg, tmp_dir)
            print(format_summary(summarize_onnx(path), path))
            status = 0
            if args.eval:
                status = evaluate(args, cfg, module, path)
            if args.bench:
                status = max(status, bench(args, cfg, module, spec, path))
            return status
    except (ValueError, FileNotFoundError) as err:
        print(f'onnx_infer.py: error: {err}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
