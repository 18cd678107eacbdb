# Copyright (c) glore_mm contributors. All rights reserved.
"""Run an exported model in ONNX Runtime on the CPU."""
import importlib
import os.path as osp
from types import ModuleType
from typing import Optional

import numpy as np
import torch


def import_deploy_module(name: str) -> ModuleType:
    """Import ``onnx``, ``onnxruntime`` or ``onnxscript``, or say how to.

    Raises:
        ImportError: Naming the requirements file that installs it.
    """
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f'{name} is not installed; install the deployment requirements '
            'with `pip install -r requirements/deploy.txt` (or `bash '
            'tools/setup_env.sh --deploy`)') from err


def load_ort_model(path: str, threads: Optional[int] = None):
    """An ``onnxruntime.InferenceSession`` of ``path`` on the CPU.

    Args:
        path (str): The ``.onnx`` file.
        threads (int, optional): Threads of each operator
            (``intra_op_num_threads``). Defaults to None, which means
            ``torch.get_num_threads()``, so both runtimes use the same.

    Returns:
        onnxruntime.InferenceSession: With the CPU execution provider and
        every graph optimisation on.
    """
    ort = import_deploy_module('onnxruntime')
    if not osp.isfile(path):
        raise FileNotFoundError(f'ONNX file {path!r} does not exist')
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    return ort.InferenceSession(
        path, options, providers=['CPUExecutionProvider'])


def run_ort(ort_model, inputs: np.ndarray) -> np.ndarray:
    """The first output of ``ort_model`` for its one input ``inputs``.

    Args:
        ort_model (onnxruntime.InferenceSession): A model with one input.
        inputs (np.ndarray): The input, float32.

    Returns:
        np.ndarray: The first output.
    """
    name = ort_model.get_inputs()[0].name
    return ort_model.run(None, {name: np.ascontiguousarray(inputs)})[0]
