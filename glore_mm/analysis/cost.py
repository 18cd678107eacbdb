# Copyright (c) glore_mm contributors. All rights reserved.
"""What a training step of a model costs.

A step is what MMEngine's runner does once per iteration:
``model.train_step(data, optim_wrapper)``: data preprocessing, forward
with the losses, backward and the optimiser's step; for a config's model
with the optimiser of the config (``optim_wrapper``). Several models are
timed interleaved (:func:`~glore_mm.analysis.benchmark.time_interleaved`),
so that load from other processes falls on all of them alike.
"""
from typing import Callable, Dict, List, Mapping, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from torch import Tensor

from glore_mm.apis import init_model
from .benchmark import time_interleaved

#: A training step: runs it and returns the logged losses.
StepCall = Callable[[], Dict[str, Tensor]]


def train_step_call(model: nn.Module, inputs: Tensor, data_samples: Sequence,
                    optim_wrapper: OptimWrapper) -> StepCall:
    """One training step of ``model`` on one fixed batch, as MMEngine's
    runner steps it: ``model.train_step(data, optim_wrapper)``.

    Every call changes the model's weights as a training iteration does.

    Args:
        model (nn.Module): An MMEngine model (a ``BaseModel``).
        inputs (Tensor): Raw inputs ``[N, ...]``, before the model's data
            preprocessor.
        data_samples (Sequence): One data sample with its labels per input.
        optim_wrapper (OptimWrapper): What steps the model's parameters.

    Returns:
        Callable[[], dict]: A call that runs the step in training mode and
        returns its logged losses (``train_step``'s log vars; ``'loss'`` is
        the total, computed before the update).
    """
    if len(inputs) != len(data_samples):
        raise ValueError(f'inputs and data_samples must be as many, but got '
                         f'{len(inputs)} inputs and {len(data_samples)} '
                         'data samples')
    data = dict(inputs=list(inputs), data_samples=list(data_samples))

    def call() -> Dict[str, Tensor]:
        model.train()
        return model.train_step(data, optim_wrapper)

    return call


def config_train_step_call(cfg: Config, inputs: Tensor,
                           data_samples: Sequence) -> StepCall:
    """:func:`train_step_call` of the model of ``cfg`` with its optimiser.

    The model is built by :func:`~glore_mm.apis.init_model` and stepped by
    the optimiser wrapper that ``cfg.optim_wrapper`` describes.

    Args:
        cfg (Config): The config.
        inputs (Tensor): Raw inputs ``[N, ...]``.
        data_samples (Sequence): One data sample per input.

    Returns:
        Callable[[], dict]: The step, returning its logged losses.
    """
    model = init_model(cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return train_step_call(model, inputs, data_samples, optim_wrapper)


def classification_batch(batch: int, shape: Sequence[int],
                         num_classes: int) -> Tuple[Tensor, List]:
    """Random images and labels for an mmpretrain classifier.

    Args:
        batch (int): Images.
        shape (Sequence[int]): One image, ``(channels, height, width)``.
        num_classes (int): Labels cycle through ``range(num_classes)``.

    Returns:
        tuple: Images ``[batch, *shape]`` uniform in 0-255 and one
        mmpretrain ``DataSample`` with its label per image.
    """
    from mmpretrain.structures import DataSample
    inputs = torch.rand(batch, *shape) * 255
    samples = [
        DataSample().set_gt_label(i % num_classes) for i in range(batch)
    ]
    return inputs, samples


def segmentation_batch(batch: int, shape: Sequence[int],
                       num_classes: int) -> Tuple[Tensor, List]:
    """Random images and label maps for an mmseg segmentor.

    Args:
        batch (int): Images.
        shape (Sequence[int]): One image, ``(channels, height, width)``.
        num_classes (int): Labels are uniform in ``range(num_classes)``.

    Returns:
        tuple: Images ``[batch, *shape]`` uniform in 0-255 and one mmseg
        ``SegDataSample`` with its label map and image shape per image.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    inputs = torch.rand(batch, *shape) * 255
    height, width = shape[1:]
    samples = []
    for _ in range(batch):
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(height, width),
                ori_shape=(height, width),
                pad_shape=(height, width)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(num_classes, (1, height, width)))
        samples.append(sample)
    return inputs, samples


def action_batch(batch: int, shape: Sequence[int],
                 num_classes: int) -> Tuple[Tensor, List]:
    """Random clips and labels for an mmaction recognizer.

    Args:
        batch (int): Samples.
        shape (Sequence[int]): One sample as the recognizer takes it,
            ``(views, channels, frames, height, width)`` for a 3-D one.
        num_classes (int): Labels cycle through ``range(num_classes)``.

    Returns:
        tuple: Clips ``[batch, *shape]`` uniform in 0-255 and one mmaction
        ``ActionDataSample`` with its label per sample.
    """
    from mmaction.structures import ActionDataSample
    inputs = torch.rand(batch, *shape) * 255
    samples = [
        ActionDataSample().set_gt_label(i % num_classes)
        for i in range(batch)
    ]
    return inputs, samples


def time_train_steps(calls: Mapping[str, Callable],
                     repeats: int,
                     warmup: int = 1) -> Dict[str, float]:
    """Median seconds of the training steps of several models.

    Args:
        calls (Mapping[str, Callable]): Name to a step, e.g. from
            :func:`config_train_step_call`.
        repeats (int): Timed steps of each, interleaved.
        warmup (int): Untimed steps of each first. Defaults to 1.

    Returns:
        dict[str, float]: Name to the median seconds of its step.
    """
    timings = time_interleaved(dict(calls), repeats, warmup=warmup)
    return {timing.name: timing.median for timing in timings}
