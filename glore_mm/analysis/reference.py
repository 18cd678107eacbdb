# Copyright (c) glore_mm contributors. All rights reserved.
"""The GloRe unit written out in the paper's order of operations.

A reference for the unit of :mod:`glore_mm.models.layers.glore`: the tests
pin the unit's function against it, and the benchmarks time it as the
paper-order baseline. It is written independently of
``glore_mm.models.layers.glore`` (it imports nothing from it) and reads the
weights of a unit only through their public names.

- :class:`LiteralGloRe` (with :class:`LiteralGCN`) is the unit as the paper
  and the authors' code (facebookresearch/GloRe) write it: two 1x1 convs,
  the graph convolution as two Conv1d with permutes, plain matmuls, BN;
  :meth:`LiteralGloRe.from_unit` copies a unit's weights into one.
- :func:`literal_glore` evaluates the paper's formulas with einsum on a
  unit's own weights; :func:`randomize_gate` opens a unit's zero-initialised
  gate so that the comparison is not trivial.
"""
import torch
import torch.nn as nn


class LiteralGCN(nn.Module):
    """The authors' graph convolution: two Conv1d with permutes."""

    def __init__(self, num_state: int, num_node: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(num_node, num_node, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv1d(num_state, num_state, kernel_size=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [N, num_state, num_node] -> [N, num_node, num_state] and back
        h = self.conv1(x.permute(0, 2, 1).contiguous()).permute(0, 2, 1)
        h = h + x
        return self.conv2(self.relu(h))


class LiteralGloRe(nn.Module):
    """The GloRe unit as the paper and the authors' code write it.

    ``x + BN(W_e · ((GCN((W_s x) · (W_p x)^T)) · (W_p x)))``, each 1x1 conv
    applied to every position, in the paper's order.
    """

    # its state-dict keys -> those of glore_mm's unit
    KEY_MAP = {
        'gcn.conv1': 'gcn.conv_node',
        'gcn.conv2': 'gcn.conv_state',
        'blocker': 'norm'
    }

    def __init__(self,
                 in_channels: int,
                 dims: int,
                 normalize: bool = False) -> None:
        super().__init__()
        conv = {2: nn.Conv2d, 3: nn.Conv3d}[dims]
        norm = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[dims]
        self.normalize = normalize
        self.num_s = in_channels // 2
        self.num_n = in_channels // 4
        self.conv_state = conv(in_channels, self.num_s, kernel_size=1)
        self.conv_proj = conv(in_channels, self.num_n, kernel_size=1)
        self.gcn = LiteralGCN(num_state=self.num_s, num_node=self.num_n)
        self.conv_extend = conv(
            self.num_s, in_channels, kernel_size=1, bias=False)
        # the authors' line, not glore_mm's constant: an independent
        # reference (network/global_reasoning_unit.py, line 57)
        self.blocker = norm(in_channels, eps=1e-4)

    @classmethod
    def from_unit(cls, unit: nn.Module) -> 'LiteralGloRe':
        """A literal unit holding a copy of ``unit``'s weights."""
        literal = cls(unit.in_channels, unit.spatial_dims, unit.normalize)
        if (literal.num_s, literal.num_n) != (unit.num_state, unit.num_node):
            raise ValueError('the literal unit has the paper\'s sizes only')
        state = unit.state_dict()
        for key in literal.state_dict():
            ours = key
            for theirs, mine in cls.KEY_MAP.items():
                ours = ours.replace(theirs + '.', mine + '.')
            literal.state_dict()[key].copy_(state[ours])
        return literal.to(next(unit.parameters()).device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        # [N, num_s, L], [N, num_n, L]
        x_state = self.conv_state(x).view(n, self.num_s, -1)
        x_proj = self.conv_proj(x).view(n, self.num_n, -1)
        # [N, num_s, num_n]
        x_n_state = torch.matmul(x_state, x_proj.permute(0, 2, 1))
        if self.normalize:
            x_n_state = x_n_state * (1. / x_state.size(2))
        x_n_rel = self.gcn(x_n_state)
        # [N, num_s, L] -> [N, num_s, *spatial]
        x_state = torch.matmul(x_n_rel, x_proj)
        x_state = x_state.view(n, self.num_s, *x.size()[2:])
        return x + self.blocker(self.conv_extend(x_state))


def randomize_gate(unit: nn.Module) -> None:
    """Give the zero-initialised gate and the norm's statistics values.

    Args:
        unit (nn.Module): A GloRe unit; changed in place.
    """
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

    Args:
        unit (nn.Module): A GloRe unit whose weights are used.
        x (torch.Tensor): The input, ``[N, C, *spatial]``.

    Returns:
        torch.Tensor: The unit's output for ``x``, shaped like ``x``.
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
