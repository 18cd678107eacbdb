# Copyright (c) glore_mm contributors. All rights reserved.
"""Static INT8 quantisation of an exported model with ONNX Runtime.

The calibration set is the first N samples of the config's own test (or
val) dataloader, passed through the model's data preprocessor: exactly
what the export wrapper takes (:func:`calibration_inputs`). ONNX Runtime's
``quant_pre_process`` first infers shapes and folds constants, then
``quantize_static`` runs the calibration set, records each tensor's range
(min/max) and writes a QDQ graph: weights int8 per output channel,
activations int8 per tensor.

Which nodes stay float (``keep_float``, one of
:data:`~glore_mm.deployment.qdq_graph.KEEP_FLOAT`) is a choice about the
GloRe unit's graph, made in :mod:`glore_mm.deployment.qdq_graph`:
``'none'`` quantises every node ONNX Runtime can, ``'scale'`` keeps float
the tensors whose magnitude follows the unit's ``1/L`` factor (a range
calibrated at one size is wrong at every other), ``'nodes'`` (the default)
also the unit's reasoning on its node features, from the product that
pools onto the nodes to the one that spreads back.
"""
import os.path as osp
import tempfile
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import Tensor, nn

from glore_mm.utils import atomic_output
from .qdq_graph import (COMPUTE_OPS, KEEP_FLOAT, SUM_OPS, count_compute,
                        float_nodes, read_float_inputs)
from .runtime import check_onnx_file, import_deploy_module

#: The default: the tensors that follow ``1/L`` and the reasoning on the
#: nodes stay float.
DEFAULT_KEEP_FLOAT = 'nodes'
#: Dataloaders a calibration set may come from.
CALIBRATION_SPLITS = ('test', 'val')


def calibration_inputs(cfg: Config,
                       model: nn.Module,
                       num: int,
                       split: str = 'test',
                       exact: bool = True) -> List[np.ndarray]:
    """The first ``num`` samples of a dataloader, as the export takes them.

    Each batch of ``cfg.<split>_dataloader`` goes through the model's data
    preprocessor (normalisation, channel order, padding) in test mode; a
    video model's views (clips x crops) become rows, one clip each, as
    :class:`~glore_mm.deployment.wrappers.RecognizerExport` takes them.

    Args:
        cfg (Config): The model's config.
        model (nn.Module): The model (its ``data_preprocessor`` is used).
        num (int): Samples (rows) to take.
        split (str): ``'test'`` or ``'val'``. Defaults to ``'test'``.
        exact (bool): Refuse a dataloader with fewer than ``num`` samples;
            else take them all. Defaults to True.

    Returns:
        list[np.ndarray]: One float32 array per batch, ``num`` rows in all
        (or all the dataloader has, if fewer and not ``exact``).

    Raises:
        ValueError: If ``num`` < 1, ``split`` is not offered, or the
            dataloader has fewer than ``num`` samples and ``exact``.
    """
    if split not in CALIBRATION_SPLITS:
        raise ValueError(f'split {split!r} is not one of '
                         f'{CALIBRATION_SPLITS}')
    if num < 1:
        raise ValueError(f'calibration samples must be >= 1, but got {num}')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = Runner.build_dataloader(cfg[f'{split}_dataloader'])
    arrays, rows = [], 0
    for data in loader:
        with torch.no_grad():
            inputs = model.data_preprocessor(data, False)['inputs']
        if inputs.dim() == 6:
            # views of each video: [N, views, C, T, H, W] -> [N*views, ...]
            inputs = inputs.flatten(0, 1)
        inputs = inputs[:num - rows]
        arrays.append(np.ascontiguousarray(inputs.float().numpy()))
        rows += inputs.shape[0]
        if rows == num:
            return arrays
    if arrays and not exact:
        return arrays
    raise ValueError(
        f'calibration samples: {num} asked for, but {split}_dataloader '
        f'gives {rows}')


def check_calibration(arrays: Sequence[np.ndarray], model) -> str:
    """Check calibration arrays against the ONNX model's one input.

    Args:
        arrays (Sequence[np.ndarray]): The calibration set.
        model (onnx.ModelProto): The float model.

    Returns:
        str: The name of the model's input.

    Raises:
        ValueError: If there are none, or one has another rank, dtype or
            size of a fixed axis (e.g. the channels) than the input.
    """
    weights = {init.name for init in model.graph.initializer}
    (graph_input, ) = [i for i in model.graph.input if i.name not in weights]
    dims = [
        d.dim_value if d.HasField('dim_value') else (d.dim_param or '?')
        for d in graph_input.type.tensor_type.shape.dim
    ]
    if not arrays:
        raise ValueError('the calibration set is empty')
    for index, array in enumerate(arrays):
        fits = (
            array.dtype == np.float32 and array.ndim == len(dims) and all(
                isinstance(d, str) or d == s
                for d, s in zip(dims, array.shape)))
        if not fits:
            raise ValueError(
                f'calibration batch {index} has shape {list(array.shape)} '
                f'({array.dtype}), but the ONNX model takes '
                f'{graph_input.name} {dims} (float32; named axes are free)')
    return graph_input.name


class ArrayReader:
    """Calibration arrays as ONNX Runtime's ``CalibrationDataReader``."""

    def __init__(self, name: str, arrays: Sequence[np.ndarray]) -> None:
        self.feeds = iter([{name: array} for array in arrays])

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        return next(self.feeds, None)


class Quantized(NamedTuple):
    """What :func:`quantize_onnx` wrote.

    Attributes:
        path (str): The INT8 model.
        keep_float (str): The choice of float nodes.
        float_nodes (dict): Name to op type of the nodes kept float by that
            choice, in graph order.
        quantized_ops (dict): Op type to the number of its nodes that run
            on quantised inputs (fed by ``DequantizeLinear``).
        float_ops (dict): The same for the float compute nodes left
            (``Conv``, ``MatMul``, ``Mul``, ``Div``, ``Add`` with no
            quantised input).
        samples (int): Rows of the calibration set.
        per_channel (bool): Whether weights have a scale per channel.
    """
    path: str
    keep_float: str
    float_nodes: Dict[str, str]
    quantized_ops: Dict[str, int]
    float_ops: Dict[str, int]
    samples: int
    per_channel: bool


def quantize_onnx(float_path: str,
                  out: str,
                  calibration: Sequence[np.ndarray],
                  keep_float: str = DEFAULT_KEEP_FLOAT,
                  per_channel: bool = True) -> Quantized:
    """Quantise the float ONNX model ``float_path`` to INT8 (QDQ) ``out``.

    Args:
        float_path (str): The exported float model.
        out (str): The INT8 model to write (atomically).
        calibration (Sequence[np.ndarray]): Model inputs
            (:func:`calibration_inputs`).
        keep_float (str): Which nodes stay float, one of
            :data:`~glore_mm.deployment.qdq_graph.KEEP_FLOAT`. Defaults to
            ``'nodes'``.
        per_channel (bool): Weights with one scale per output channel.
            Defaults to True.

    Returns:
        Quantized: The file and what was quantised.

    Raises:
        ValueError: If ``float_path`` is no ONNX model or is quantised
            already, the calibration set does not fit its input, or
            ``keep_float`` is not offered.
    """
    if keep_float not in KEEP_FLOAT:
        raise ValueError(
            f'keep_float {keep_float!r} is not one of {KEEP_FLOAT}')
    onnx = import_deploy_module('onnx')
    quantization = import_deploy_module('onnxruntime.quantization')
    model = check_onnx_file(float_path)
    if any(node.op_type == 'QuantizeLinear' for node in model.graph.node):
        raise ValueError(f'{float_path!r} is quantised already; give the '
                         'float model pytorch2onnx.py wrote')
    name = check_calibration(calibration, model)
    with tempfile.TemporaryDirectory() as tmp_dir:
        prepared = osp.join(tmp_dir, 'prepared.onnx')
        quantization.shape_inference.quant_pre_process(float_path, prepared)
        prepared_model = onnx.load(prepared)
        kept = float_nodes(prepared_model, keep_float)
        op_types = {
            node.name: node.op_type
            for node in prepared_model.graph.node
        }
        with atomic_output(out) as tmp:
            quantization.quantize_static(
                prepared,
                tmp,
                ArrayReader(name, calibration),
                quant_format=quantization.QuantFormat.QDQ,
                per_channel=per_channel,
                activation_type=quantization.QuantType.QInt8,
                weight_type=quantization.QuantType.QInt8,
                nodes_to_exclude=kept,
                calibrate_method=quantization.CalibrationMethod.MinMax)
            quantized_model = onnx.load(tmp)
            read_float_inputs(quantized_model, kept)
            onnx.save(quantized_model, tmp)
            quantized, float_ops = count_compute(check_onnx_file(tmp))
    rows = sum(array.shape[0] for array in calibration)
    return Quantized(out, keep_float, {name: op_types[name]
                                       for name in kept}, quantized, float_ops,
                     rows, per_channel)


def format_quantized(result: Quantized) -> str:
    """The printed summary of :func:`quantize_onnx`."""

    def counts(ops: Dict[str, int]) -> str:
        return ', '.join(f'{op} {n}' for op, n in sorted(ops.items()))

    lines = [
        f'INT8 model: {result.path} (QDQ, weights per '
        f'{"channel" if result.per_channel else "tensor"}; calibrated on '
        f'{result.samples} samples)',
        f'quantised: {counts(result.quantized_ops) or "nothing"}',
        f'float: {counts(result.float_ops) or "nothing"}',
        f'kept float by keep_float={result.keep_float!r}: '
        f'{len(result.float_nodes)} nodes' + (', computing: ' + ', '.join(
            f'{name} ({op})' for name, op in result.float_nodes.items()
            if op in COMPUTE_OPS + SUM_OPS) if result.float_nodes else '')
    ]
    return '\n'.join(lines)


def resized_inputs(calibration: Sequence[np.ndarray]):
    """Inputs of any shape made from calibration samples, for a check.

    The samples are resized (bilinear, trilinear for clips) to the asked
    height and width (and clip length), so that an INT8 model is checked
    on inputs like those it was calibrated on, at every size.

    Args:
        calibration (Sequence[np.ndarray]): The calibration arrays.

    Returns:
        Callable: ``(shape, seed) -> Tensor``; rows are samples taken in
        turn from row ``seed``.
    """
    samples = torch.from_numpy(np.concatenate(list(calibration)))

    def make(shape: Tuple[int, ...], seed: int) -> Tensor:
        rows = [(seed + i) % samples.shape[0] for i in range(shape[0])]
        mode = 'bilinear' if len(shape) == 4 else 'trilinear'
        return F.interpolate(
            samples[rows], size=shape[2:], mode=mode, align_corners=False)

    return make
