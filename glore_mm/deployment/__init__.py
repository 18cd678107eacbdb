# Copyright (c) glore_mm contributors. All rights reserved.
"""ONNX export of glore_mm's segmentation, classification and video models.

- :mod:`.wrappers`: each library's model as a tensor-to-tensor module.
- :mod:`.onnx_export`: build from a config, export, check, summarise.
- :mod:`.runtime`: ONNX Runtime on the CPU.
- :mod:`.verify`: ONNX Runtime against PyTorch at several input sizes,
  one of them with the GloRe units' other product order.
- :mod:`.benchmark`: ONNX Runtime against PyTorch latency.
- :mod:`.evaluation`: a segmentation test set evaluated through both.

``onnx``, ``onnxruntime`` and ``onnxscript`` come from
``requirements/deploy.txt``; they are imported when first needed.
"""
from .benchmark import (Timing, benchmark_ort_torch, format_timings,
                        time_interleaved)
from .evaluation import EvaluationResult, OrtSegmentor, evaluate_segmentation
from .onnx_export import (DEFAULT_EXPORTER, DEFAULT_OPSET, EXPORTERS, Exported,
                          OnnxSummary, default_size, export_from_config,
                          export_onnx, format_summary, input_channels,
                          summarize_onnx, wrap_for_export)
from .runtime import load_ort_model, run_ort
from .verify import (RTOL, SizeCheck, UnitRecord, format_checks, record_units,
                     verify_onnx)
from .wrappers import (EXPORT_SPECS, ClassifierExport, ExportSpec,
                       RecognizerExport, SegmentorExport, export_spec,
                       input_shape)

__all__ = [
    'DEFAULT_EXPORTER', 'DEFAULT_OPSET', 'EXPORTERS', 'EXPORT_SPECS', 'RTOL',
    'ClassifierExport', 'EvaluationResult', 'ExportSpec', 'Exported',
    'OnnxSummary', 'OrtSegmentor', 'RecognizerExport', 'SegmentorExport',
    'SizeCheck', 'Timing', 'UnitRecord', 'benchmark_ort_torch', 'default_size',
    'evaluate_segmentation', 'export_from_config', 'export_onnx',
    'export_spec', 'format_checks', 'format_summary', 'format_timings',
    'input_channels', 'input_shape', 'load_ort_model', 'record_units',
    'run_ort', 'summarize_onnx', 'time_interleaved', 'verify_onnx',
    'wrap_for_export'
]
