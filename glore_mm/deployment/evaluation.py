# Copyright (c) glore_mm contributors. All rights reserved.
"""Evaluate a segmentation model through its exports and through PyTorch.

:class:`RuntimeSegmentor` stands in for an mmseg segmentor in testing: the
segmentor's own data preprocessor prepares each batch, a back end
(:class:`~glore_mm.deployment.runtime.Runtime`: ONNX Runtime or OpenVINO,
float or INT8) runs the exported network (see
:class:`~glore_mm.deployment.wrappers.SegmentorExport`) and the
segmentor's own post-processing (padding removed, flip undone, resized to
the original image, argmax) makes the predictions.
:func:`evaluate_segmentation` runs the config's test dataloader once,
passes every batch to the PyTorch segmentor and to each exported model,
and feeds each result to its own copy of the config's test evaluator
(mmseg's ``IoUMetric``).
"""
import copy
from typing import Dict, List, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from torch import nn

from .runtime import TORCH, Runtime, runtime_names


class RuntimeSegmentor:
    """An mmseg segmentor whose network runs in a back end.

    Whole-image inference only: a ``test_cfg`` with ``mode='slide'`` is
    refused.

    Args:
        segmentor (nn.Module): The mmseg ``EncoderDecoder`` the model was
            exported from; its data preprocessor and post-processing are
            used.
        runtime (Runtime): The exported network, images ``[N, C, H, W]``
            to logits ``[N, classes, H, W]``.
    """

    def __init__(self, segmentor: nn.Module, runtime: Runtime) -> None:
        test_cfg = getattr(segmentor, 'test_cfg', None) or {}
        mode = test_cfg.get('mode', 'whole')
        if mode != 'whole':
            raise ValueError(
                f"model.test_cfg.mode={mode!r}: the ONNX model is evaluated "
                "with whole-image inference only; set "
                "--cfg-options model.test_cfg.mode=whole")
        self.segmentor = segmentor
        self.runtime = runtime

    def test_step(self, data: Dict) -> List:
        """Predictions (``SegDataSample`` list) for a dataloader batch."""
        data = self.segmentor.data_preprocessor(data, False)
        inputs, samples = data['inputs'], data['data_samples']
        logits = torch.from_numpy(self.runtime(inputs.numpy()))
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
    """Metrics of PyTorch and of each exported model on one test set.

    Attributes:
        metrics (dict): The test evaluator's metrics per name
            (``'PyTorch'``, then each :attr:`Runtime.name`).
        pixels (int): Predicted pixels (of each).
        same_pixels (dict): Per runtime name, the pixels it gave the same
            label as PyTorch.
    """
    metrics: Dict[str, Dict[str, float]]
    pixels: int
    same_pixels: Dict[str, int]


def evaluate_segmentation(cfg: Config,
                          segmentor: nn.Module,
                          runtimes: Sequence[Runtime],
                          progress: bool = True) -> EvaluationResult:
    """Evaluate ``segmentor`` and its exports on the config's test set.

    Args:
        cfg (Config): The config; its ``test_dataloader`` and
            ``test_evaluator`` are used.
        segmentor (nn.Module): The PyTorch segmentor, in eval mode.
        runtimes (Sequence[Runtime]): Its exported network in one or more
            back ends (distinct names).
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        EvaluationResult: The metrics of each and how many pixels each
        runtime labels as PyTorch does.
    """
    names = runtime_names(runtimes)
    stand_ins = {
        runtime.name: RuntimeSegmentor(segmentor, runtime)
        for runtime in runtimes
    }
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = Runner.build_dataloader(cfg.test_dataloader)
    evaluators = {
        name: Evaluator(copy.deepcopy(cfg.test_evaluator))
        for name in [TORCH] + names
    }
    for evaluator in evaluators.values():
        evaluator.dataset_meta = loader.dataset.metainfo
    bar = ProgressBar(len(loader.dataset)) if progress else None
    pixels = 0
    same = dict.fromkeys(names, 0)
    for data in loader:
        # each runtime writes its predictions into its own data samples
        copies = {name: copy.deepcopy(data) for name in names}
        with torch.no_grad():
            torch_out = segmentor.test_step(data)
        evaluators[TORCH].process(torch_out, data)
        pixels += sum(out.pred_sem_seg.data.numel() for out in torch_out)
        for name, stand_in in stand_ins.items():
            out = stand_in.test_step(copies[name])
            evaluators[name].process(out, copies[name])
            same[name] += sum(
                int((a.pred_sem_seg.data == b.pred_sem_seg.data).sum())
                for a, b in zip(torch_out, out))
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
