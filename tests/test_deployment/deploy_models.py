# Copyright (c) glore_mm contributors. All rights reserved.
"""What the deployment tests share: the shrunk configs, the tools, and the
opening of GloRe gates (a closed gate makes a unit the identity, and a
check of an exported graph would not see the unit)."""
import re
from typing import Dict, Tuple

import torch
from torch import nn

from glore_mm.models import glore_units_of
from tests.tool_runner import REPO, TOOLS

CONFIGS = REPO / 'tests' / 'data' / 'configs'
SEG_CONFIG = CONFIGS / 'tiny_glore_fcn_cityscapes.py'
CLS_CONFIG = (
    CONFIGS / 'tiny_mmpretrain' / 'resnet50-glore-res4x3_1xb4-1e_tiny-in1k.py')
VIDEO_CONFIG = (
    CONFIGS / 'tiny_mmaction' / 'i3d_r50-glore_1xb2-4x4x1-1e_tiny-kinetics400'
    '-rgb.py')
C2D_CONFIG = (
    CONFIGS / 'tiny_mmaction' / 'c2d_r18-glore_1xb2-4x4x1-1e_tiny-kinetics400'
    '-rgb.py')
EXPORT = TOOLS / 'deployment' / 'pytorch2onnx.py'
INFER = TOOLS / 'deployment' / 'onnx_infer.py'
QUANTIZE = TOOLS / 'deployment' / 'quantize.py'
MAKE_CITYSCAPES = TOOLS / 'dataset_converters' / 'make_tiny_cityscapes.py'
# export size of the segmentation model: 4x8 positions at the GloRe head
SEG_SIZE = (32, 64)


def open_gates(model: nn.Module,
               module: nn.Module,
               shape: Tuple[int, ...],
               branch: float = 0.3,
               seed: int = 0) -> None:
    """Give every unit's gate norm random weights and statistics.

    The weights are then scaled, unit by unit in forward order, so that on
    a random input of ``shape`` each unit's branch is ``branch`` times its
    input (an eval-mode BN gate is affine: scaling its weight and bias
    scales the branch). Unscaled, random gates of units that sum over the
    positions (``normalize=False``) grow the features by orders of
    magnitude from unit to unit.
    """
    generator = torch.Generator().manual_seed(seed)
    units = list(glore_units_of(model).items())
    assert units, 'the model has no GloRe units'
    for _, unit in units:
        norm = unit.norm
        with torch.no_grad():
            norm.weight.normal_(generator=generator)
            norm.bias.normal_(std=0.1, generator=generator)
            norm.running_mean.normal_(std=0.1, generator=generator)
            norm.running_var.uniform_(0.5, 1.5, generator=generator)

    def calibrate(unit: nn.Module, args: Tuple,
                  output: torch.Tensor) -> torch.Tensor:
        x = args[0]
        scale = branch * float(x.norm()) / float((output - x).norm())
        unit.norm.weight.mul_(scale)
        unit.norm.bias.mul_(scale)
        return x + (output - x) * scale

    handles = [unit.register_forward_hook(calibrate) for _, unit in units]
    try:
        with torch.no_grad():
            module(torch.randn(shape, generator=generator))
    finally:
        for handle in handles:
            handle.remove()


def metrics(stdout: str, name: str) -> Dict[str, float]:
    """The metrics ``onnx_infer.py --eval`` printed on the line of ``name``.
    """
    found = re.search(rf'^{re.escape(name)} +(\w+: [\d.]+.*)$', stdout, re.M)
    assert found, stdout
    return {
        k: float(v)
        for k, v in re.findall(r'(\w+): ([\d.]+)', found.group(1))
    }


def pixels_alike(stdout: str, name: str) -> Tuple[int, int]:
    """Pixels ``name`` labelled as PyTorch did, and all pixels."""
    found = re.search(
        rf'^{name}: pixels labelled as PyTorch does: (\d+) of (\d+)', stdout,
        re.M)
    assert found, stdout
    return int(found.group(1)), int(found.group(2))
