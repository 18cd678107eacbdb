# Copyright (c) glore_mm contributors. All rights reserved.
"""Measurements of what a model, or one of its units, does to its input.

The shapes its stages and units give, how wide a window of the input one
output of a stage sees (measured by back-propagation), and how large the
residual branch of a GloRe unit is on a batch.
"""
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.runner import set_random_seed
from torch import Tensor

from glore_mm.apis import init_model
from glore_mm.apis.model import ConfigType
from glore_mm.models import glore_units_of
from glore_mm.utils import record_calls


def branch_scale(x: Tensor, output: Tensor) -> float:
    """``||output - x|| / ||x||`` (L2 norms): the size of a residual branch.

    0 for a unit that is the identity (a closed gate), and 0 for a zero
    input.

    Args:
        x (Tensor): A residual unit's input.
        output (Tensor): Its output, of the same shape.

    Returns:
        float: The relative size of what the unit adds.
    """
    norm = float(torch.linalg.vector_norm(x.float()))
    if norm == 0:
        return 0.0
    return float(torch.linalg.vector_norm((output - x).float())) / norm


def module_outputs(model: nn.Module, names: Sequence[str],
                   inputs: Any) -> Dict[str, Any]:
    """The outputs of the submodules ``names`` in ``model(inputs)``.

    Args:
        model (nn.Module): The model; it runs as it is (mode, grad).
        names (Sequence[str]): Submodule names (``'layer2.1.glore'``).
        inputs: What ``model`` is called with.

    Returns:
        dict: Name to the output of its last call.
    """
    modules = {name: model.get_submodule(name) for name in names}
    with record_calls(modules) as outputs:
        model(inputs)
    return outputs


def stage_names(backbone: nn.Module) -> List[str]:
    """The res layers of a ResNet-style backbone (``res_layers``), in order.

    Raises:
        TypeError: If the backbone has no ``res_layers``.
    """
    layers = getattr(backbone, 'res_layers', None)
    if not layers:
        raise TypeError(f'{type(backbone).__name__} has no res_layers: '
                        'expected a ResNet-style backbone of mmseg, '
                        'mmpretrain or mmaction')
    return list(layers)


@contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode for the duration; the module's mode is restored after."""
    training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(training)


def backbone_shapes(
    backbone: nn.Module, shape: Sequence[int]
) -> Tuple[List[Tuple[int, ...]], Dict[str, Tuple[int, ...]]]:
    """What a ResNet-style backbone makes of one blank input.

    The backbone runs in eval mode (its norms' statistics are left alone)
    and is returned to its mode.

    Args:
        backbone (nn.Module): A backbone with ``res_layers``.
        shape (Sequence[int]): One input without the batch axis,
            ``(channels, height, width)``.

    Returns:
        tuple: The output shape without the batch axis
        (``(channels, height, width)``) of each res layer, in order, and
        ``{name: shape}`` of the backbone's GloRe units
        (``'layer2.1.glore'``).
    """
    layers = stage_names(backbone)
    units = list(glore_units_of(backbone))
    with torch.no_grad(), _eval_mode(backbone):
        outputs = module_outputs(backbone, layers + units,
                                 torch.zeros(1, *shape))
    shapes = {
        name: tuple(output.shape[1:])
        for name, output in outputs.items()
    }
    return [shapes[name] for name in layers], {
        name: shapes[name]
        for name in units
    }


def receptive_widths(backbone: nn.Module, shape: Sequence[int]) -> List[int]:
    """Width in input columns that one central output of each res layer
    sees.

    Measured by back-propagation in eval mode (the backbone is returned to
    its mode after) from a random input: the
    columns of the input whose gradient of the layer's output at its
    central position (``height // 2, width // 2``), summed over channels,
    is not zero. This is the theoretical window, cut at the input's edges;
    the effective one is smaller.

    Args:
        backbone (nn.Module): A backbone with ``res_layers``.
        shape (Sequence[int]): One input without the batch axis,
            ``(channels, height, width)``.

    Returns:
        list[int]: One width per res layer, in order.
    """
    layers = stage_names(backbone)
    inputs = torch.rand(1, *shape, requires_grad=True)
    with _eval_mode(backbone):
        outputs = module_outputs(backbone, layers, inputs)
    widths = []
    for name in layers:
        output = outputs[name]  # [1, C, h, w]
        height, width = output.shape[2:]
        grad, = torch.autograd.grad(
            output[0, :, height // 2, width // 2].sum(),
            inputs,
            retain_graph=True)
        columns = torch.nonzero(grad.abs().sum((0, 1, 2))).flatten()
        widths.append(int(columns.max() - columns.min() + 1))
    return widths


def receptive_frames(backbone: nn.Module, shape: Sequence[int]) -> List[int]:
    """Input frames that one central output of each res layer of a video
    backbone depends on.

    The temporal counterpart of :func:`receptive_widths`, measured the same
    way (back-propagation in eval mode from a random clip): the frames of
    the input whose gradient of the layer's output at its central position
    in time and space, summed over channels, is not zero, counted from the
    first to the last. A layer's output is ``[1, C, t, h, w]`` (I3D) or,
    for backbones that run their blocks frame by frame (C2D), ``[t, C, h,
    w]`` with the frames in the batch axis.

    Args:
        backbone (nn.Module): A video backbone with ``res_layers``.
        shape (Sequence[int]): One clip without the batch axis,
            ``(channels, frames, height, width)``.

    Returns:
        list[int]: One number of frames per res layer, in order.
    """
    layers = stage_names(backbone)
    inputs = torch.rand(1, *shape, requires_grad=True)
    with _eval_mode(backbone):
        outputs = module_outputs(backbone, layers, inputs)
    frames = []
    for name in layers:
        output = outputs[name]
        if output.dim() == 5:  # [1, C, t, h, w]
            t, h, w = output.shape[2:]
            centre = output[0, :, t // 2, h // 2, w // 2]
        else:  # [t, C, h, w]: frames in the batch axis
            t, _, h, w = output.shape
            centre = output[t // 2, :, h // 2, w // 2]
        grad, = torch.autograd.grad(
            centre.sum(), inputs, retain_graph=True)  # [1, C, T, H, W]
        seen = torch.nonzero(grad.abs().sum((0, 1, 3, 4))).flatten()
        frames.append(int(seen.max() - seen.min() + 1))
    return frames


def unit_output_scale(config: ConfigType,
                      inputs: Tensor,
                      checkpoint: Optional[str] = None,
                      seed: int = 0,
                      unit: Optional[str] = None) -> float:
    """:func:`branch_scale` of a GloRe unit of a config's model on a batch.

    The batch goes through the model's data preprocessor and
    ``extract_feat``. Without a checkpoint the model is freshly initialised
    (``init_weights`` after ``set_random_seed(seed)``) and in training
    mode, as the first training step sees it; with one, it is the trained
    model in eval mode.

    Args:
        config (str | Config): The config (see
            :func:`~glore_mm.apis.init_model`).
        inputs (Tensor): Raw images, ``[N, C, H, W]``.
        checkpoint (str, optional): Trained weights. Defaults to None.
        seed (int): Seeds the initialisation. Defaults to 0.
        unit (str, optional): The unit's module name. Defaults to None:
            the model's only unit.

    Returns:
        float: ``||unit(x) - x|| / ||x||`` of the unit's first call.

    Raises:
        ValueError: If ``unit`` is not given and the model has not exactly
            one GloRe unit, or names none of them.
    """
    set_random_seed(seed)
    model = init_model(config, checkpoint, init_weights=checkpoint is None)
    if checkpoint is None:
        model.train()
    units = glore_units_of(model)
    if unit is None and len(units) != 1:
        raise ValueError(f'unit must name one of the GloRe units when the '
                         f'model has not exactly one, but got unit=None '
                         f'and the units {list(units)}')
    name = next(iter(units)) if unit is None else unit
    if name not in units:
        raise ValueError(f'unit must be one of {list(units)}, but got '
                         f'{name!r}')

    def scale(module: nn.Module, args: Tuple, output: Tensor) -> float:
        return branch_scale(args[0], output)

    with torch.no_grad(), record_calls({name: units[name]}, scale,
                                       first=True) as scales:
        data = model.data_preprocessor(dict(inputs=list(inputs)), False)
        model.extract_feat(data['inputs'])
    return scales[name]
