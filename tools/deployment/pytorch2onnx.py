# Copyright (c) glore_mm contributors. All rights reserved.
"""Export a segmentation, classification or video model to ONNX.

The graph maps the data preprocessor's output to the network's: mmseg
models give whole-image logits ``[N, classes, H, W]`` of normalised images
``[N, 3, H, W]``, mmpretrain models logits ``[N, classes]``, mmaction
models clip scores ``[N, classes]`` of clips ``[N, 3, T, H, W]``. Batch,
time and spatial axes are free unless ``--no-dynamic``. The file is checked
with ``onnx.checker`` and written atomically; ``--verify`` compares ONNX
Runtime with PyTorch at three input sizes and exits with 1 if they differ
by more than 1e-4 (relative).

Examples:
    python tools/deployment/pytorch2onnx.py \\
        configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py \\
        work_dirs/glore_r18-d8_1xb8-1k_brain-mri-128x128/iter_1000.pth \\
        --out work_dirs/brain_mri.onnx --verify
    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT \\
        --out model.onnx --shape 1024 2048 --no-dynamic --opset 17
    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT \\
        --out model.onnx --exporter dynamo --verify
"""
import argparse
import sys
import time
from typing import List, Optional

from mmengine.config import Config, DictAction

from glore_mm.deployment import (DEFAULT_EXPORTER, DEFAULT_OPSET, EXPORTERS,
                                 export_from_config, format_checks,
                                 format_summary, load_ort_model,
                                 summarize_onnx, verify_onnx)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export an mmseg, mmpretrain or mmaction model to ONNX')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
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
        help='compare ONNX Runtime with PyTorch at three sizes')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        cfg = Config.fromfile(args.config)
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        exported = export_from_config(cfg, args.checkpoint, args.out,
                                      args.shape, args.batch, args.dynamic,
                                      args.opset, args.exporter)
    except (ValueError, FileNotFoundError) as err:
        print(f'pytorch2onnx.py: error: {err}', file=sys.stderr)
        return 2
    print(f'traced with input {list(exported.shape)}, {args.exporter} '
          f'exporter, onnx.checker passed; built and exported in '
          f'{time.perf_counter() - start:.1f} s')
    print(format_summary(summarize_onnx(args.out), args.out))
    if not args.verify:
        return 0
    checks = verify_onnx(exported.module, load_ort_model(args.out),
                         exported.shape, exported.spec, args.dynamic)
    print(format_checks(checks))
    failed = [check for check in checks if not check.passed]
    if failed:
        print(
            f'verification FAILED at {len(failed)} of {len(checks)} sizes',
            file=sys.stderr)
        return 1
    print(f'verification passed at {len(checks)} sizes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
