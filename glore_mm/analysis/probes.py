# Copyright (c) glore_mm contributors. All rights reserved.
"""Measurements of what a model, or one of its units, does to its input."""
import torch
from torch import Tensor


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
