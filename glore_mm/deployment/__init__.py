# Copyright (c) glore_mm contributors. All rights reserved.
"""ONNX export of glore_mm's segmentation, classification and video models.

- :mod:`.wrappers`: each library's model as a tensor-to-tensor module.
- :mod:`.onnx_export`: build from a config, export, check, summarise.
- :mod:`.runtime`: ONNX Runtime or OpenVINO on the CPU, one interface.
- :mod:`.verify`: a back end against PyTorch at several input sizes,
  one of them with the GloRe units' other product order.
- :mod:`.quantize`: static INT8 quantisation with ONNX Runtime,
  calibrated on the config's own dataloader; :mod:`.qdq_graph`: which
  nodes of a GloRe graph stay float.
- :mod:`.benchmark`: the back ends' latency against PyTorch's.
- :mod:`.evaluation`: a segmentation test set evaluated through each.

``onnx``, ``onnxruntime``, ``onnxscript`` and ``openvino`` come from
``requirements/deploy.txt``; they are imported when first needed.
"""
from .benchmark import (Timing, benchmark_runtimes, format_timings,
                        timings_table)
from .evaluation import (EvaluationResult, RuntimeSegmentor,
                         evaluate_segmentation)
from .onnx_export import (DEFAULT_EXPORTER, DEFAULT_OPSET, EXPORTERS, Exported,
                          OnnxSummary, default_size, export_from_config,
                          export_onnx, format_summary, input_channels,
                          summarize_onnx, wrap_for_export)
from .qdq_graph import KEEP_FLOAT, float_nodes
from .quantize import (CALIBRATION_SPLITS, DEFAULT_KEEP_FLOAT, Quantized,
                       calibration_inputs, check_calibration, format_quantized,
                       quantize_onnx, resized_inputs)
from .runtime import (BACKENDS, DEFAULT_BACKEND, PRECISIONS, TORCH, Runtime,
                      check_backend, check_onnx_file, check_tool_inputs,
                      load_runtime)
from .verify import (RTOL, SizeCheck, UnitRecord, format_checks, random_input,
                     record_units, verify_onnx)
from .wrappers import (EXPORT_SPECS, ClassifierExport, ExportSpec,
                       RecognizerExport, SegmentorExport, export_spec,
                       input_shape)

__all__ = [
    'BACKENDS', 'CALIBRATION_SPLITS', 'DEFAULT_BACKEND', 'DEFAULT_EXPORTER',
    'DEFAULT_KEEP_FLOAT', 'DEFAULT_OPSET', 'EXPORTERS', 'EXPORT_SPECS',
    'KEEP_FLOAT', 'PRECISIONS', 'RTOL', 'TORCH', 'ClassifierExport',
    'EvaluationResult', 'ExportSpec', 'Exported', 'OnnxSummary', 'Quantized',
    'RecognizerExport', 'Runtime', 'RuntimeSegmentor', 'SegmentorExport',
    'SizeCheck', 'Timing', 'UnitRecord', 'benchmark_runtimes',
    'calibration_inputs', 'check_backend', 'check_calibration',
    'check_onnx_file', 'check_tool_inputs', 'default_size',
    'evaluate_segmentation', 'export_from_config', 'export_onnx',
    'export_spec', 'float_nodes', 'format_checks', 'format_quantized',
    'format_summary', 'format_timings', 'input_channels', 'input_shape',
    'load_runtime', 'quantize_onnx', 'random_input', 'record_units',
    'resized_inputs', 'summarize_onnx', 'timings_table', 'verify_onnx',
    'wrap_for_export'
]
