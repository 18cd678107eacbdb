# Copyright (c) glore_mm contributors. All rights reserved.
"""The paper's formulas written out, for the tests that check the unit."""
import torch
import torch.nn as nn


def randomize_gate(unit: nn.Module) -> None:
    """Give the zero-initialised gate and the norm's statistics values."""
    with torch.no_grad():
        for p in unit.gate.parameters():
            p.normal_()
        if isinstance(unit.norm, nn.modules.batchnorm._BatchNorm):
            unit.norm.running_mean.normal_()
            unit.norm.running_var.uniform_(0.5, 2.0)


def literal_glore(unit: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The paper's formulas written out with einsum, independent of the unit.

    states S = W_s x + b_s, projection B = W_p x + b_p, nodes V = S B^T
    (divided by L when normalising), graph conv V' = W_g ReLU(V + V A^T + b_a),
    reverse projection Y = V' B, extension Z = W_e Y, gate BN(Z), x + BN(Z).

    Computes in the dtype of ``unit``'s parameters and ``x``: a float64 copy
    of the unit gives a float64 reference, and autograd through it gives the
    reference gradients of ``x`` and of the copy's parameters.
    """
    n, c = x.shape[:2]
    xs = x.reshape(n, c, -1)  # [N, C, L]
    length = xs.shape[2]
    w_s = unit.conv_state.weight.reshape(unit.num_state, c)
    w_p = unit.conv_proj.weight.reshape(unit.num_node, c)
    states = torch.einsum('sc,ncl->nsl', w_s, xs) + \
        unit.conv_state.bias[None, :, None]
    proj = torch.einsum('kc,ncl->nkl', w_p, xs) + \
        unit.conv_proj.bias[None, :, None]
    nodes = torch.einsum('nsl,nkl->nsk', states, proj)
    if unit.normalize:
        nodes = nodes / length
    adj = unit.gcn.conv_node.weight.reshape(unit.num_node, unit.num_node)
    mixed = nodes + torch.einsum('jk,nsk->nsj', adj, nodes) + \
        unit.gcn.conv_node.bias[None, None, :]
    w_g = unit.gcn.conv_state.weight.reshape(unit.num_state, unit.num_state)
    reasoned = torch.einsum('ts,nsk->ntk', w_g, torch.relu(mixed))
    back = torch.einsum('nsk,nkl->nsl', reasoned, proj)
    w_e = unit.conv_extend.weight.reshape(c, unit.num_state)
    ext = torch.einsum('cs,nsl->ncl', w_e, back)
    if unit.with_norm:
        bn = unit.norm
        if bn.training:
            mean = ext.mean(dim=(0, 2))
            var = ext.var(dim=(0, 2), unbiased=False)
        else:
            mean, var = bn.running_mean, bn.running_var
        ext = (ext - mean[None, :, None]) / torch.sqrt(var[None, :, None] +
                                                       bn.eps)
        ext = ext * bn.weight[None, :, None] + bn.bias[None, :, None]
    return (xs + ext).reshape(x.shape)
