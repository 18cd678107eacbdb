# Copyright (c) glore_mm contributors. All rights reserved.
"""Export a segmentation, classification or video model to ONNX.

The graph maps the data preprocessor's output to the network's: mmseg
models give whole-image logits ``[N, classes, H, W]`` of normalised images
``[N, 3, H, W]``, mmpretrain models logits ``[N, classes]``, mmaction
models clip scores ``[N, classes]`` of clips ``[N, 3, T, H, W]``. Batch,
time and spatial axes are free unless ``--no-dynamic``. The file is checked
with ``onnx.checker`` and written atomically; ``--verify`` compares each
``--backend`` (ONNX Runtime by default, OpenVINO) with PyTorch at three
input sizes and exits with 1 if one differs by more than 1e-4 (relative).

Examples:
    python tools/deployment/pytorch2onnx.py \\
        configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py \\
        work_dirs/glore_r18-d8_1xb8-1k_brain-mri-128x128/iter_1000.pth \\
        --out work_dirs/brain_mri.onnx --verify
    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT \\
        --out model.onnx --shape 1024 2048 --no-dynamic --opset 17
    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT \\
        --out model.onnx --exporter dynamo --verify \\
        --backend onnxruntime openvino
"""
import argparse
import time
from typing import List, Optional, Tuple

from mmengine.config import DictAction

from glore_mm.apis import load_config
from glore_mm.deployment import (BACKENDS, DEFAULT_BACKEND, DEFAULT_EXPORTER,
                                 DEFAULT_OPSET, EXPORTERS, PRECISIONS,
                                 check_tool_inputs, export_from_config,
                                 format_checks, format_summary, load_runtime,
                                 summarize_onnx, verify_onnx)
from glore_mm.utils import BAD_INPUT_ERRORS, refuse_bad_input


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='Export an mmseg, mmpretrain or mmaction model to ONNX')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (default: the random weights of construction, '
        'for timing only)')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input size to trace with: H W (images) or T H W (clips); '
        'default: an mmseg config\'s data_preprocessor.size, else 224 224 '
        '(mmpretrain) or 8 224 224 (mmaction)')
    parser.add_argument(
        '--batch',
        type=int,
        help='batch of the example input (default: 2 with --dynamic, 1 '
        'without)')
    parser.add_argument(
        '--dynamic',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='leave batch, time, height and width free (default: on)')
    parser.add_argument(
        '--opset',
        type=int,
        default=DEFAULT_OPSET,
        help=f'ONNX opset (default: {DEFAULT_OPSET}; the dynamo exporter '
        'writes 18-23, torchscript 7-20)')
    parser.add_argument(
        '--exporter',
        choices=EXPORTERS,
        default=DEFAULT_EXPORTER,
        help=f'torch.onnx back end (default: {DEFAULT_EXPORTER}; dynamo '
        'is torch.export, slower to export)')
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare each --backend with PyTorch at three sizes')
    parser.add_argument(
        '--backend',
        nargs='+',
        choices=BACKENDS,
        default=[DEFAULT_BACKEND],
        help=f'--verify: back ends to check (default: {DEFAULT_BACKEND})')
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        default=PRECISIONS[0],
        help='--verify: float precision of the back ends: f32, or the '
        'device\'s default (OpenVINO: bf16 on CPUs with bf16 instructions, '
        'whose error is then reported against the f32 tolerance). Default: '
        'f32')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if len(set(args.backend)) != len(args.backend):
        parser.error(f'--backend {" ".join(args.backend)}: name each back '
                     'end once')
    return parser, args


def main(argv: Optional[List[str]] = None) -> int:
    parser, args = parse_args(argv)
    start = time.perf_counter()
    with refuse_bad_input(parser, BAD_INPUT_ERRORS + (ImportError, )):
        if args.verify:
            check_tool_inputs(args.backend, args.precision)
        cfg = load_config(args.config, args.cfg_options)
        exported = export_from_config(cfg, args.checkpoint, args.out,
                                      args.shape, args.batch, args.dynamic,
                                      args.opset, args.exporter)
    print(f'traced with input {list(exported.shape)}, {args.exporter} '
          f'exporter, onnx.checker passed; built and exported in '
          f'{time.perf_counter() - start:.1f} s')
    print(format_summary(summarize_onnx(args.out), args.out))
    if not args.verify:
        return 0
    failed = []
    for backend in args.backend:
        runtime = load_runtime(args.out, backend, precision=args.precision)
        checks = verify_onnx(exported.module, runtime, exported.shape,
                             exported.spec, args.dynamic)
        print(format_checks(checks, runtime))
        failed += [(runtime.name, check.label) for check in checks
                   if not check.passed]
    if failed:
        print('verification FAILED: ' + ', '.join(f'{name} at the {label}'
                                                  for name, label in failed))
        return 1
    print(f'verification passed at {len(checks)} sizes in '
          f'{len(args.backend)} back ends')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
