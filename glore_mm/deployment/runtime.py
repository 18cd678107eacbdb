# Copyright (c) glore_mm contributors. All rights reserved.
"""Run an exported model on the CPU: ONNX Runtime or OpenVINO.

:func:`load_runtime` checks that a file is an ONNX model and loads it in
one back end; the :class:`Runtime` it returns is called on a float32 array
and gives the model's first output, whichever back end runs it, so that
verification, evaluation and timing take either.

Precision: ONNX Runtime's CPU provider computes a float graph in float32.
OpenVINO's CPU plugin computes in the device's default precision unless
told otherwise, which is bfloat16 on CPUs with bf16 instructions (AVX512
BF16, AMX): on the brain MRI demo's model about 1e-2 of the largest
logit, where float32 rounds at about 1e-6.
:data:`PRECISIONS` names the two choices; ``'f32'`` (the default) asks
OpenVINO for float32, ``'default'`` leaves its choice, and
:attr:`Runtime.precision` says what it computes in either way. A graph
quantised to INT8 (quantize and dequantize nodes) runs its quantised
operators in int8 in both.
"""
import importlib
import os.path as osp
from types import ModuleType
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

#: Back ends that run an ONNX file, by their package name.
BACKENDS = ('onnxruntime', 'openvino')
#: The default back end.
DEFAULT_BACKEND = BACKENDS[0]
#: Their names in reports.
BACKEND_NAMES = {'onnxruntime': 'ONNX Runtime', 'openvino': 'OpenVINO'}
#: Float precision: ``'f32'``, or ``'default'``, the device's own choice
#: (OpenVINO: bf16 where the CPU has it; ONNX Runtime: f32 always).
PRECISIONS = ('f32', 'default')
#: The name of PyTorch beside the back ends in reports.
TORCH = 'PyTorch'
#: Op types that mark a quantised (QDQ) graph.
QUANTIZE_OPS = ('QuantizeLinear', 'DequantizeLinear')


def import_deploy_module(name: str) -> ModuleType:
    """Import ``onnx``, ``onnxruntime``, ``onnxscript`` or ``openvino``.

    Raises:
        ImportError: Naming the package and the requirements file that
            installs it.
    """
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f'{name} is not installed; install the deployment requirements '
            'with `pip install -r requirements/deploy.txt` (or `bash '
            'tools/setup_env.sh --deploy`)') from err


def check_backend(backend: str, precision: str = 'f32') -> None:
    """Check that ``backend`` is offered and installed.

    Raises:
        ValueError: For a back end or precision not offered.
        ImportError: If the back end's package is not installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend {backend!r} is not one of {BACKENDS}')
    if precision not in PRECISIONS:
        raise ValueError(f'precision {precision!r} is not one of {PRECISIONS}')
    import_deploy_module(backend)


def check_onnx_file(path: str):
    """Read the ONNX file ``path`` and check it with ``onnx.checker``.

    Returns:
        onnx.ModelProto: The model.

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        ValueError: If it is no valid ONNX model, with the checker's reason.
    """
    onnx = import_deploy_module('onnx')
    if not osp.isfile(path):
        raise FileNotFoundError(f'ONNX file {path!r} does not exist')
    try:
        onnx.checker.check_model(path)
        return onnx.load(path)
    except Exception as err:  # onnx raises its own and protobuf's types
        raise ValueError(
            f'{path!r} is not an ONNX model ({err}); give a file written '
            'by tools/deployment/pytorch2onnx.py or quantize.py') from err


def check_tool_inputs(
    backends: Sequence[str] = (),
    precision: str = 'f32',
    onnx_files: Optional[Dict[str, Optional[str]]] = None,
    quantized: Sequence[str] = ()
) -> None:
    """Check the back ends and ONNX files a tool was given, up front.

    Args:
        backends (Sequence[str]): Its ``--backend`` values.
        precision (str): Its ``--precision``. Defaults to ``'f32'``.
        onnx_files (dict, optional): Option (``'--onnx'``) to the file it
            names, or None where not given.
        quantized (Sequence[str]): The options among them that must name
            a quantised (INT8) model.

    Raises:
        ImportError: ``--backend X: ...`` for a back end not installed.
        ValueError: ``--onnx PATH: ...`` for a file that is no ONNX model
            (or no quantised one where ``quantized`` asks for it), or a back
            end or precision not offered.
        FileNotFoundError: ``--onnx PATH: ...`` for a missing file.
    """
    for backend in backends:
        try:
            check_backend(backend, precision)
        except ImportError as err:
            raise ImportError(f'--backend {backend}: {err}') from err
    for option, path in (onnx_files or {}).items():
        if path is None:
            continue
        try:
            model = check_onnx_file(path)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'{option} {path}: {err}') from err
        except ValueError as err:
            raise ValueError(f'{option} {path}: {err}') from err
        if option in quantized and not is_quantized(model):
            raise ValueError(
                f'{option} {path}: the model has no quantize/dequantize '
                'nodes; give the INT8 file tools/deployment/quantize.py '
                'wrote')


def is_quantized(model) -> bool:
    """Whether the ONNX model (``onnx.ModelProto``) is quantised (QDQ)."""
    return any(node.op_type in QUANTIZE_OPS for node in model.graph.node)


class Runtime:
    """An ONNX model loaded in one back end; call it on an array.

    Args:
        path (str): The ``.onnx`` file.
        backend (str): One of :data:`BACKENDS`.
        precision (str): What the back end computes float operators in
            (``'f32'``, ``'bf16'``, ...).
        quantized (bool): Whether the graph is quantised (QDQ).
    """

    def __init__(self, path: str, backend: str, precision: str,
                 quantized: bool) -> None:
        self.path = path
        self.backend = backend
        self.precision = precision
        self.quantized = quantized

    @property
    def name(self) -> str:
        """``'ONNX Runtime'``, ``'OpenVINO bf16'``, ``'... INT8'``."""
        parts = [BACKEND_NAMES[self.backend]]
        if self.precision != 'f32':
            parts.append(self.precision)
        if self.quantized:
            parts.append('INT8')
        return ' '.join(parts)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """The model's first output for its one input ``inputs``.

        Args:
            inputs (np.ndarray): The input, float32.

        Returns:
            np.ndarray: The first output, an array of its own.
        """
        raise NotImplementedError


class OrtRuntime(Runtime):
    """ONNX Runtime's CPU execution provider, every graph optimisation."""

    def __init__(self, path: str, quantized: bool, threads: int) -> None:
        super().__init__(path, 'onnxruntime', 'f32', quantized)
        ort = import_deploy_module('onnxruntime')
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        self.session = ort.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        feed = {self.input_name: np.ascontiguousarray(inputs)}
        return self.session.run(None, feed)[0]


class OpenVinoRuntime(Runtime):
    """OpenVINO's CPU plugin, compiled for latency (one stream)."""

    def __init__(self, path: str, quantized: bool, threads: int,
                 precision: str) -> None:
        ov = import_deploy_module('openvino')
        core = ov.Core()
        config: Dict[str, object] = {
            'INFERENCE_NUM_THREADS': threads,
            'NUM_STREAMS': 1,
            'PERFORMANCE_HINT': 'LATENCY',
        }
        if precision == 'f32':
            config['INFERENCE_PRECISION_HINT'] = 'f32'
        self.compiled = core.compile_model(
            core.read_model(path), 'CPU', config)
        hint = self.compiled.get_property('INFERENCE_PRECISION_HINT')
        super().__init__(path, 'openvino', hint.to_string(), quantized)
        self.request = self.compiled.create_infer_request()

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        self.request.infer({0: np.ascontiguousarray(inputs)})
        # the request reuses its output buffer in the next call
        return self.request.get_output_tensor(0).data.copy()


def runtime_names(runtimes: Sequence[Runtime]) -> List[str]:
    """The names of ``runtimes``, to report them beside PyTorch.

    Raises:
        ValueError: If two share a name (the same file in the same back end
            twice).
    """
    names = [runtime.name for runtime in runtimes]
    if len(set(names + [TORCH])) != len(names) + 1:
        raise ValueError(f'each model must run once per back end, but got '
                         f'{names}')
    return names


def load_runtime(path: str,
                 backend: str = DEFAULT_BACKEND,
                 threads: Optional[int] = None,
                 precision: str = 'f32') -> Runtime:
    """Load the ONNX file ``path`` in ``backend`` on the CPU.

    Args:
        path (str): The ``.onnx`` file, float or quantised (QDQ).
        backend (str): One of :data:`BACKENDS`. Defaults to
            ``'onnxruntime'``.
        threads (int, optional): Threads of each operator. Defaults to
            None, which means ``torch.get_num_threads()``, so that the back
            end and PyTorch use the same.
        precision (str): One of :data:`PRECISIONS`. Defaults to ``'f32'``.

    Returns:
        Runtime: The loaded model.

    Raises:
        ImportError: If the back end is not installed.
        FileNotFoundError: If ``path`` is not a file.
        ValueError: If it is no ONNX model, or ``backend`` / ``precision``
            is not offered.
    """
    check_backend(backend, precision)
    quantized = is_quantized(check_onnx_file(path))
    threads = threads or torch.get_num_threads()
    if backend == 'onnxruntime':
        return OrtRuntime(path, quantized, threads)
    return OpenVinoRuntime(path, quantized, threads, precision)
