# Copyright (c) glore_mm contributors. All rights reserved.
"""Quantise an exported model to INT8, calibrated on the config's own data.

Static quantisation with ONNX Runtime (``onnxruntime.quantization``): the
first ``--calib`` samples of the config's test (or ``--split val``)
dataloader, through the model's data preprocessor as the export takes
them, give each activation's range; weights are quantised per output
channel, activations per tensor, both int8, in the QDQ format (quantize and
dequantize nodes around float operators, which ONNX Runtime and OpenVINO
fuse into int8 kernels). ``--keep-float`` says which nodes of the GloRe
units stay float: ``none``; ``scale``, the tensors that follow the unit's
``1/L`` factor (a range calibrated at one input size is wrong at every
other); ``nodes``, those and the unit's reasoning on its node features,
from the product that pools onto the nodes to the one that spreads back
(see docs/deployment.md for what each costs and gains).

Check the result with ``tools/deployment/onnx_infer.py --int8``
(``--verify``, ``--eval``, ``--bench``).

Example:
    python tools/deployment/quantize.py \\
        configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py \\
        work_dirs/brain_mri.onnx --out work_dirs/brain_mri_int8.onnx \\
        --calib 16
"""
import argparse
import time
from typing import List, Optional, Tuple

from mmengine.config import DictAction

from glore_mm.apis import init_model, load_config
from glore_mm.deployment import (CALIBRATION_SPLITS, DEFAULT_KEEP_FLOAT,
                                 KEEP_FLOAT, calibration_inputs,
                                 check_calibration, check_onnx_file,
                                 check_tool_inputs, format_quantized,
                                 quantize_onnx)
from glore_mm.utils import BAD_INPUT_ERRORS, refuse_bad_input


def parse_args(
    argv: Optional[List[str]] = None
) -> Tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description='Quantise an exported model to INT8 (ONNX Runtime, '
        'static, calibrated on the config\'s dataloader)')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'onnx',
        help='the float .onnx file of the config\'s model (pytorch2onnx.py; '
        'it holds the weights)')
    parser.add_argument(
        '--out', required=True, help='the INT8 .onnx file to write')
    parser.add_argument(
        '--calib',
        type=int,
        default=16,
        help='calibration samples: the first N of the dataloader '
        '(default: 16)')
    parser.add_argument(
        '--split',
        choices=CALIBRATION_SPLITS,
        default=CALIBRATION_SPLITS[0],
        help='the dataloader to calibrate on (default: test)')
    parser.add_argument(
        '--keep-float',
        choices=KEEP_FLOAT,
        default=DEFAULT_KEEP_FLOAT,
        help='what of the GloRe units stays float: none; scale (the '
        'tensors that follow 1/L); nodes (those and the reasoning on the '
        f'node features). Default: {DEFAULT_KEEP_FLOAT}')
    parser.add_argument(
        '--per-channel',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='one weight scale per output channel (default: on)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    args = parser.parse_args(argv)
    if args.calib < 1:
        parser.error(f'--calib must be >= 1, but got {args.calib}')
    return parser, args


def main(argv: Optional[List[str]] = None) -> int:
    parser, args = parse_args(argv)
    start = time.perf_counter()
    with refuse_bad_input(parser, BAD_INPUT_ERRORS + (ImportError, )):
        check_tool_inputs(['onnxruntime'], onnx_files={'ONNX': args.onnx})
        cfg = load_config(args.config, args.cfg_options)
        # its data preprocessor prepares the calibration set
        model = init_model(cfg)
        calibration = calibration_inputs(cfg, model, args.calib, args.split)
        check_calibration(calibration, check_onnx_file(args.onnx))
    shapes = sorted({tuple(array.shape[1:]) for array in calibration})
    print(f'calibration: the first {args.calib} samples of '
          f'{args.split}_dataloader, through the data preprocessor; sample '
          f'shapes {[list(s) for s in shapes]}')
    result = quantize_onnx(args.onnx, args.out, calibration, args.keep_float,
                           args.per_channel)
    print(format_quantized(result))
    print(f'quantised in {time.perf_counter() - start:.1f} s')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
