# Copyright (c) glore_mm contributors. All rights reserved.
"""Build a model from its config and export it to ONNX.

:func:`~glore_mm.apis.init_model` builds the config's model and loads a
checkpoint; :func:`wrap_for_export` makes it a tensor
function (see :mod:`glore_mm.deployment.wrappers`); :func:`export_onnx`
traces it with ``torch.onnx.export``, checks the file with
``onnx.checker`` and moves it into place only then; :func:`summarize_onnx`
reads back what the graph takes, gives and is made of.

A GloRe unit takes its matrix products in the order that costs less for the
number of positions it sees (``nodes_first`` in
:mod:`glore_mm.models.layers.glore_products`). Both exporters record the
order of the example input's size, so the graph has one order for every
size: the same function, with other rounding at sizes where the unit would
have chosen the other order. :mod:`glore_mm.deployment.verify` checks one such
size. The unit's ``1/L`` factor (``normalize=True``) is computed from the
input's shape in the graph, so it follows the input size.
"""
import collections
import math
import os
import os.path as osp
import tempfile
import warnings
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from torch import nn

from glore_mm.apis import init_model
from .runtime import import_deploy_module
from .wrappers import ExportSpec, dynamic_axes, export_spec, input_shape

#: ``torch.onnx.export`` back ends, the default first: ``torchscript``
#: (tracing; torch deprecates it but still ships it) and ``dynamo``
#: (``torch.export``, torch's own default since 2.9, several times slower
#: to export).
EXPORTERS = ('torchscript', 'dynamo')
#: The exporter used unless one is named.
DEFAULT_EXPORTER = EXPORTERS[0]
#: The default opset: torch's own default, which both exporters write and
#: ONNX Runtime has run since 1.17.
DEFAULT_OPSET = 20
#: The opsets each exporter writes (``torch.onnx`` 2.14).
OPSETS = {'dynamo': range(18, 24), 'torchscript': range(7, 21)}


def wrap_for_export(cfg: Config,
                    model: nn.Module) -> Tuple[nn.Module, ExportSpec]:
    """The tensor-to-tensor module to export, and how to name its axes.

    Args:
        cfg (Config): The model's config; its ``default_scope`` picks the
            wrapper.
        model (nn.Module): The model from :func:`~glore_mm.apis.init_model`.

    Returns:
        tuple: The wrapper in eval mode and its
        :class:`~glore_mm.deployment.wrappers.ExportSpec`.
    """
    spec = export_spec(cfg.get('default_scope', None))
    return spec.wrapper(model).eval(), spec


def default_size(cfg: Config, spec: ExportSpec) -> Tuple[int, ...]:
    """Input size (without batch, channels) to export at by default.

    An mmseg config's ``data_preprocessor.size`` (its training crop), else
    ``spec.default_shape``.
    """
    preprocessor = cfg.model.get('data_preprocessor', None) or {}
    size = preprocessor.get('size', None)
    if size is not None and len(size) == len(spec.default_shape):
        return tuple(int(s) for s in size)
    return spec.default_shape


def input_channels(cfg: Config) -> int:
    """Channels of the model input: the data preprocessor's mean, else 3."""
    preprocessor = (
        cfg.model.get('data_preprocessor', None)
        or cfg.get('data_preprocessor', None) or {})
    mean = preprocessor.get('mean', None)
    return len(mean) if mean is not None else 3


def check_opset(opset: int, exporter: str) -> None:
    """Raise ValueError if ``exporter`` does not write ``opset``."""
    if exporter not in EXPORTERS:
        raise ValueError(f'exporter {exporter!r} is not one of {EXPORTERS}')
    allowed = OPSETS[exporter]
    if opset not in allowed:
        raise ValueError(
            f'--opset {opset}: the {exporter} exporter writes opsets '
            f'{allowed.start}..{allowed.stop - 1}')


def export_onnx(module: nn.Module,
                example: torch.Tensor,
                out: str,
                spec: ExportSpec,
                dynamic: bool = True,
                opset: int = DEFAULT_OPSET,
                exporter: str = DEFAULT_EXPORTER) -> None:
    """Export ``module`` to the ONNX file ``out``, checked, atomically.

    The graph is written to a temporary file beside ``out``, checked with
    ``onnx.checker.check_model`` (with shape inference) and renamed to
    ``out``; on any error ``out`` is left as it was. Weights are stored in
    the file itself (no external data).

    Args:
        module (nn.Module): A tensor-to-tensor module in eval mode.
        example (Tensor): An example input; its size is traced.
        out (str): The ``.onnx`` file to write.
        spec (ExportSpec): Names of the input, output and their axes.
        dynamic (bool): Leave batch, time and spatial axes free. Defaults to
            True.
        opset (int): The ONNX opset. Defaults to :data:`DEFAULT_OPSET`.
        exporter (str): One of :data:`EXPORTERS`. Defaults to
            :data:`DEFAULT_EXPORTER`.
    """
    onnx = import_deploy_module('onnx')
    if exporter == 'dynamo':
        import_deploy_module('onnxscript')
    check_opset(opset, exporter)
    axes = dynamic_axes(spec, dynamic)
    kwargs = dict(
        input_names=[spec.input_name],
        output_names=[spec.output_name],
        opset_version=opset,
        external_data=False)
    if exporter == 'dynamo':
        kwargs.update(
            dynamo=True,
            dynamic_shapes={spec.input_name: axes[spec.input_name]}
            if dynamic else None,
            verbose=False)
    else:
        kwargs.update(dynamo=False, dynamic_axes=axes or None)
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(out)}.', suffix='.tmp', dir=folder)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # Tracing warns at every Python branch on a size (the units'
            # product order among them); what it freezes is verified by
            # glore_mm.deployment.verify instead.
            warnings.simplefilter('ignore', torch.jit.TracerWarning)
            warnings.filterwarnings(
                'ignore', 'You are using the legacy TorchScript-based ONNX',
                DeprecationWarning)
            torch.onnx.export(module, (example, ), tmp, **kwargs)
        _set_class_axis(tmp, spec, getattr(module, 'num_classes', None))
        onnx.checker.check_model(tmp, full_check=True)
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def _set_class_axis(path: str, spec: ExportSpec,
                    num_classes: Optional[int]) -> None:
    """Write the number of classes into the output's ``classes`` axis.

    The TorchScript exporter leaves the channel axis of a resized output
    without a size when the other axes are free; the file then claims a
    free axis that is not.
    """
    onnx = import_deploy_module('onnx')
    if num_classes is None or 'classes' not in spec.output_axes:
        return
    model = onnx.load(path)
    axis = spec.output_axes.index('classes')
    output = next(o for o in model.graph.output if o.name == spec.output_name)
    dim = output.type.tensor_type.shape.dim[axis]
    if dim.HasField('dim_value'):
        return
    dim.dim_value = num_classes
    onnx.save(model, path)


class Exported(NamedTuple):
    """What :func:`export_from_config` made.

    Attributes:
        module (nn.Module): The exported tensor function, in eval mode (the
            model is ``module.model``).
        spec (ExportSpec): Names of the input, output and their axes.
        shape (tuple[int]): Shape of the example input it was traced with.
    """
    module: nn.Module
    spec: ExportSpec
    shape: Tuple[int, ...]


def export_from_config(cfg: Config,
                       checkpoint: Optional[str],
                       out: str,
                       size: Optional[Sequence[int]] = None,
                       batch: Optional[int] = None,
                       dynamic: bool = True,
                       opset: int = DEFAULT_OPSET,
                       exporter: str = DEFAULT_EXPORTER) -> Exported:
    """Build the config's model, load ``checkpoint`` and export it to ``out``.

    Args:
        cfg (Config): The model's config.
        checkpoint (str, optional): Checkpoint to load; None keeps the
            random weights of construction.
        out (str): The ``.onnx`` file to write.
        size (Sequence[int], optional): Input height and width (time,
            height and width for video) to trace with. Defaults to None,
            which means :func:`default_size`.
        batch (int, optional): Batch of the example input. Defaults to
            None, which means 2 for a dynamic export (an axis traced with
            size 1 can be fixed to 1 by the exporters) and 1 for a static
            one.
        dynamic (bool): Leave batch, time and spatial axes free. Defaults to
            True.
        opset (int): The ONNX opset. Defaults to :data:`DEFAULT_OPSET`.
        exporter (str): One of :data:`EXPORTERS`. Defaults to
            :data:`DEFAULT_EXPORTER`.

    Returns:
        Exported: The exported module, its spec and the traced shape.
    """
    check_opset(opset, exporter)
    module, spec = wrap_for_export(cfg, init_model(cfg, checkpoint))
    if batch is None:
        batch = 2 if dynamic else 1
    shape = input_shape(spec, batch, input_channels(cfg), size
                        or default_size(cfg, spec))
    example = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    export_onnx(module, example, out, spec, dynamic, opset, exporter)
    return Exported(module, spec, shape)


class OnnxSummary(NamedTuple):
    """What an ONNX file holds, as :func:`summarize_onnx` reads it.

    Attributes:
        inputs (list): ``(name, dims)`` per graph input; a dim is an int
            or the name of a free axis.
        outputs (list): ``(name, dims)`` per graph output.
        opsets (dict): Opset version per domain (``'ai.onnx'`` for the
            default domain).
        op_counts (list): ``(op type, count)``, most frequent first.
        num_params (int): Elements of the initializers (weights).
        file_bytes (int): Size of the file.
    """
    inputs: List[Tuple[str, List]]
    outputs: List[Tuple[str, List]]
    opsets: Dict[str, int]
    op_counts: List[Tuple[str, int]]
    num_params: int
    file_bytes: int

    def dynamic_axes(self) -> Dict[str, Dict[int, str]]:
        """``{tensor: {axis: name}}`` of the free axes of inputs, outputs."""
        result = {}
        for name, dims in self.inputs + self.outputs:
            free = {i: d for i, d in enumerate(dims) if isinstance(d, str)}
            if free:
                result[name] = free
        return result


def _dims(value_info) -> List:
    dims = []
    for dim in value_info.type.tensor_type.shape.dim:
        if dim.HasField('dim_value'):
            dims.append(int(dim.dim_value))
        else:
            dims.append(dim.dim_param or '?')
    return dims


def _count_ops(graph, counts: collections.Counter) -> None:
    """Count node types of ``graph`` and of its subgraphs (If, Loop)."""
    for node in graph.node:
        domain = f'{node.domain}.' if node.domain else ''
        counts[domain + node.op_type] += 1
        for attr in node.attribute:
            if attr.g is not None and attr.g.node:
                _count_ops(attr.g, counts)
            for sub in attr.graphs:
                _count_ops(sub, counts)


def summarize_onnx(path: str) -> OnnxSummary:
    """Read inputs, outputs, opsets and op types of the ONNX file ``path``.

    Args:
        path (str): An ``.onnx`` file.

    Returns:
        OnnxSummary: What the file holds.
    """
    onnx = import_deploy_module('onnx')
    model = onnx.load(path)
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    counts: collections.Counter = collections.Counter()
    _count_ops(graph, counts)
    num_params = sum(math.prod(init.dims) for init in graph.initializer)
    return OnnxSummary(
        inputs=[(i.name, _dims(i)) for i in graph.input
                if i.name not in weights],
        outputs=[(o.name, _dims(o)) for o in graph.output],
        opsets={
            (o.domain or 'ai.onnx'): int(o.version)
            for o in model.opset_import
        },
        op_counts=sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])),
        num_params=int(num_params),
        file_bytes=osp.getsize(path))


def format_summary(summary: OnnxSummary, path: str) -> str:
    """The printed summary of an ONNX file (see :func:`summarize_onnx`)."""

    def shape(dims: Sequence) -> str:
        return '[' + ', '.join(str(d) for d in dims) + ']'

    lines = [
        f'ONNX model: {path} ({summary.file_bytes / 2**20:.1f} MiB, '
        f'{summary.num_params / 1e6:.2f}M weights)',
        'opsets: ' + ', '.join(f'{d} {v}' for d, v in summary.opsets.items())
    ]
    lines += [f'input:  {name} {shape(dims)}' for name, dims in summary.inputs]
    lines += [
        f'output: {name} {shape(dims)}' for name, dims in summary.outputs
    ]
    free = summary.dynamic_axes()
    lines.append('dynamic axes: ' + ('; '.join(
        f'{name} {axes}'
        for name, axes in free.items()) if free else 'none (static shapes)'))
    total = sum(count for _, count in summary.op_counts)
    lines.append(f'ops ({total} nodes, {len(summary.op_counts)} types): ' +
                 ', '.join(f'{op} {count}' for op, count in summary.op_counts))
    return '\n'.join(lines)
