# Copyright (c) glore_mm contributors. All rights reserved.
"""What the unit benchmark checks before it measures.

:func:`check_equal`: ours and the literal unit compute the same function.
:func:`check_flop_count`: the analytic counts of
:func:`~.cases.count_macs` against the project's FLOP counter.
"""
import copy
from typing import Dict

import torch
import torch.nn as nn

from ..complexity import flop_analyzer
from ..reference import LiteralGloRe
from .cases import Case, count_macs


def check_equal(blocks: Dict[str, nn.Module], case: Case, device: str) -> str:
    """Ours and the literal unit: same output and input gradient (fp32).

    Runs on copies (training moves the BN statistics) with ours' weights
    copied into the literal unit.

    Args:
        blocks (dict[str, nn.Module]): From :func:`build_blocks`.
        case (Case): The size to check at.
        device (str): Where the blocks are.

    Returns:
        str: A one-line summary.

    Raises:
        AssertionError: The two differ.
    """
    torch.manual_seed(1)
    x = torch.randn(case.shape, device=device)
    grad = torch.randn_like(x)
    lines = []
    for mode in ('train', 'eval'):
        ours = copy.deepcopy(blocks['ours']).train(mode == 'train')
        literal = LiteralGloRe.from_unit(ours).train(mode == 'train')
        inputs = [x.clone().requires_grad_() for _ in range(2)]
        outs = [block(inp) for block, inp in zip((ours, literal), inputs)]
        for out in outs:
            out.backward(grad)
        scale = (outs[1] - x).abs().max().item()
        out_err = (outs[0] - outs[1]).abs().max().item() / scale
        grad_err = ((inputs[0].grad - inputs[1].grad).abs().max() /
                    inputs[1].grad.abs().max()).item()
        if not (out_err < 1e-3 and grad_err < 1e-3):
            raise AssertionError(
                f'ours and the literal unit differ on {case.label} in '
                f'{mode} mode: output {out_err:.2e}, input gradient '
                f'{grad_err:.2e} (relative)')
        lines.append(f'{mode}: output {out_err:.1e}, input grad '
                     f'{grad_err:.1e}')
    return (f'ours == literal on {case.label} (max relative difference; ' +
            '; '.join(lines) + ')')


def check_flop_count(blocks: Dict[str, nn.Module], case: Case,
                     device: str) -> str:
    """Compare the analytic counts with the project's FLOP counter.

    :func:`~glore_mm.analysis.complexity.flop_analyzer`: mmengine's
    FlopAnalyzer with a handle for ``aten::baddbmm``, which mmengine 0.10
    lacks. Norms are left out on both sides.

    Args:
        blocks (dict[str, nn.Module]): From :func:`build_blocks`.
        case (Case): The size to count at.
        device (str): Where the blocks are.

    Returns:
        str: A one-line summary of both counts per block.
    """
    x = torch.randn(case.shape, device=device)
    parts = []
    for name, block in blocks.items():
        block.eval()
        counted = sum(
            v for k, v in flop_analyzer(block, (x, )).by_operator().items()
            if 'norm' not in k)
        parts.append(f'{name} {counted / 1e9:.3f} vs '
                     f'{count_macs(name, case) / 1e9:.3f}')
    return (f'GMAC on {case.label}, mmengine FlopAnalyzer vs analytic: ' +
            ', '.join(parts))
