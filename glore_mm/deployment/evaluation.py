# Copyright (c) glore_mm contributors. All rights reserved.
"""Evaluate a segmentation model through ONNX Runtime and through PyTorch.

:class:`OrtSegmentor` stands in for an mmseg segmentor in testing: the
segmentor's own data preprocessor prepares each batch, ONNX Runtime runs
the exported network (see
:class:`~glore_mm.deployment.wrappers.SegmentorExport`) and the
segmentor's own post-processing (padding removed, flip undone, resized to
the original image, argmax) makes the predictions.
:func:`evaluate_segmentation` runs the config's test dataloader once,
passes every batch to the PyTorch segmentor and to the ONNX model, and
feeds each result to its own copy of the config's test evaluator (mmseg's
``IoUMetric``).
"""
import copy
from typing import Dict, List, NamedTuple

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import nn

from .runtime import run_ort

TORCH, ORT = 'PyTorch', 'ONNX Runtime'


class OrtSegmentor:
    """An mmseg segmentor whose network runs in ONNX Runtime.

    Whole-image inference only: a ``test_cfg`` with ``mode='slide'`` is
    refused.

    Args:
        segmentor (nn.Module): The mmseg ``EncoderDecoder`` the model was
            exported from; its data preprocessor and post-processing are
            used.
        ort_model (onnxruntime.InferenceSession): The exported network,
            images ``[N, C, H, W]`` to logits ``[N, classes, H, W]``.
    """

    def __init__(self, segmentor: nn.Module, ort_model) -> None:
        test_cfg = getattr(segmentor, 'test_cfg', None) or {}
        mode = test_cfg.get('mode', 'whole')
        if mode != 'whole':
            raise ValueError(
                f"model.test_cfg.mode={mode!r}: the ONNX model is evaluated "
                "with whole-image inference only; set "
                "--cfg-options model.test_cfg.mode=whole")
        self.segmentor = segmentor
        self.ort_model = ort_model

    def test_step(self, data: Dict) -> List:
        """Predictions (``SegDataSample`` list) for a dataloader batch."""
        data = self.segmentor.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        logits = torch.from_numpy(run_ort(self.ort_model, inputs.numpy()))
        # as mmseg's decode head resizes to the padded shape
        meta = samples[0].metainfo
        size = tuple(meta.get('pad_shape', meta['img_shape'])[:2])
        if size != tuple(logits.shape[2:]):
            logits = F.interpolate(
                logits,
                size=size,
                mode='bilinear',
                align_corners=self.segmentor.align_corners)
        return self.segmentor.postprocess_result(logits, samples)


class EvaluationResult(NamedTuple):
    """Metrics of both runtimes on one test set.

    Attributes:
        metrics (dict): The test evaluator's metrics per runtime
            (``'PyTorch'``, ``'ONNX Runtime'``).
        pixels (int): Predicted pixels.
        same_pixels (int): Pixels both runtimes gave the same label.
    """
    metrics: Dict[str, Dict[str, float]]
    pixels: int
    same_pixels: int


def evaluate_segmentation(cfg: Config,
                          segmentor: nn.Module,
                          ort_model,
                          progress: bool = True) -> EvaluationResult:
    """Evaluate ``segmentor`` and its ONNX model on the config's test set.

    Args:
        cfg (Config): The config; its ``test_dataloader`` and
            ``test_evaluator`` are used.
        segmentor (nn.Module): The PyTorch segmentor, in eval mode.
        ort_model (onnxruntime.InferenceSession): Its exported network.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        EvaluationResult: Both runtimes' metrics and how many pixels they
        label alike.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = Runner.build_dataloader(cfg.test_dataloader)
    evaluators = {
        name: Evaluator(copy.deepcopy(cfg.test_evaluator))
        for name in (TORCH, ORT)
    }
    for evaluator in evaluators.values():
        evaluator.dataset_meta = loader.dataset.metainfo
    ort_segmentor = OrtSegmentor(segmentor, ort_model)
    bar = ProgressBar(len(loader.dataset)) if progress else None
    pixels = same = 0
    for data in loader:
        # each runtime writes its predictions into its own data samples
        ort_data = copy.deepcopy(data)
        with torch.no_grad():
            torch_out = segmentor.test_step(data)
        ort_out = ort_segmentor.test_step(ort_data)
        evaluators[TORCH].process(torch_out, data)
        evaluators[ORT].process(ort_out, ort_data)
        for a, b in zip(torch_out, ort_out):
            labels_a, labels_b = a.pred_sem_seg.data, b.pred_sem_seg.data
            pixels += labels_a.numel()
            same += int((labels_a == labels_b).sum())
        if bar is not None:
            for _ in torch_out:
                bar.update()
    if bar is not None:
        print()
    size = len(loader.dataset)
    metrics = {}
    for name, evaluator in evaluators.items():
        print_log(f'{name}:', logger='current')
        metrics[name] = evaluator.evaluate(size)
    return EvaluationResult(metrics, pixels, same)
