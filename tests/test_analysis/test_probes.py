# Copyright (c) glore_mm contributors. All rights reserved.
"""Model probes: outputs of submodules, stage and unit shapes, receptive
widths measured by back-propagation (checked against the widths worked out
by hand), and the size of a unit's residual branch."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.runner import set_random_seed

from glore_mm.analysis import randomize_gate
from glore_mm.analysis.probes import (backbone_shapes, module_outputs,
                                      receptive_widths, stage_names,
                                      unit_output_scale)
from glore_mm.apis import init_model
from glore_mm.models import glore_units_of

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'mmpretrain'
PLAIN = CONFIGS / 'resnet18-cifar_fashion-mnist.py'
GATED = CONFIGS / 'resnet18-cifar_fashion-mnist_glore-res4x1.py'
UNGATED = CONFIGS / 'resnet18-cifar_fashion-mnist_glore-res4x1-nozeroinit.py'


def _resnet_cifar(**kwargs) -> nn.Module:
    from mmpretrain.registry import MODELS

    import glore_mm.mmpretrain  # noqa: F401 (registers GloReResNet_CIFAR)
    cfg = dict(type='ResNet_CIFAR', depth=18, in_channels=1)
    cfg.update(kwargs)
    return MODELS.build(cfg)


class TwoStages(nn.Module):
    """A 3x3 conv, then a 5x5 conv of stride 2, as two res layers."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Conv2d(1, 2, 3, padding=1)
        self.layer2 = nn.Conv2d(2, 2, 5, stride=2, padding=2)
        self.res_layers = ['layer1', 'layer2']

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer2(self.layer1(x))


def test_module_outputs():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(5, 3)
    with torch.no_grad():
        outputs = module_outputs(model, ['0', '2'], x)
        first = model[0](x)
        torch.testing.assert_close(outputs['0'], first)
        torch.testing.assert_close(outputs['2'], model[2](first.relu()))
    # the hooks are gone afterwards
    assert not model[0]._forward_hooks and not model[2]._forward_hooks


def test_backbone_shapes():
    """The pairs experiment's backbone on a 28x112 canvas (its report)."""
    backbone = _resnet_cifar(
        type='GloReResNet_CIFAR',
        stem_channels=8,
        base_channels=8,
        glore_units='res3x1',
        glore_cfg=dict(type='GloRe2d'))
    stages, units = backbone_shapes(backbone, (1, 28, 112))
    assert stages == [(8, 28, 112), (16, 14, 56), (32, 7, 28), (64, 4, 14)]
    assert units == {'layer2.1.glore': (16, 14, 56)}
    # run in eval mode (1x1 maps would break training-mode BN), and
    # returned to its mode
    plain = _resnet_cifar()
    assert backbone_shapes(plain, (1, 8, 8)) == ([(64, 8, 8), (128, 4, 4),
                                                  (256, 2, 2),
                                                  (512, 1, 1)], {})
    assert plain.training


def _resnet18_cifar_widths() -> list:
    """ResNet_CIFAR-18's windows worked out by hand: a 3x3 stem, then per
    stage two BasicBlocks of two 3x3 convs, the first of stages 2-4 with
    stride 2. A k x k conv widens the window by (k - 1) times the product
    of the strides before it."""
    width, jump, widths = 3, 1, []
    for stride in (1, 2, 2, 2):
        for conv in range(4):
            width += 2 * jump
            if conv == 0:
                jump *= stride
        widths.append(width)
    return widths


def test_receptive_widths_of_resnet_cifar():
    assert _resnet18_cifar_widths() == [11, 25, 53, 109]
    torch.manual_seed(0)
    backbone = _resnet_cifar(stem_channels=16, base_channels=16)
    widths = receptive_widths(backbone, (1, 8, 160))
    assert widths == _resnet18_cifar_widths()
    assert backbone.training


def test_receptive_widths_cut_at_the_edges():
    torch.manual_seed(0)
    # 3, then 3 + 4 = 7 columns
    assert receptive_widths(TwoStages(), (1, 3, 32)) == [3, 7]
    # 4 columns: the 7-wide window around column 2 keeps columns 0-3
    assert receptive_widths(TwoStages(), (1, 3, 4)) == [3, 4]


def test_stage_names():
    assert stage_names(TwoStages()) == ['layer1', 'layer2']
    with pytest.raises(TypeError, match='Sequential has no res_layers'):
        stage_names(nn.Sequential(nn.ReLU()))


def _images() -> torch.Tensor:
    return torch.from_numpy(
        np.random.default_rng(0).integers(0, 256, (4, 1, 28, 28))).float()


def _literal_scale(model: nn.Module, images: torch.Tensor) -> float:
    """The unit's input and output by plain hooks, the norms in numpy."""
    (name, unit), = glore_units_of(model).items()
    seen = []

    def keep(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        seen.append((args[0].numpy().copy(), output.numpy().copy()))

    handle = unit.register_forward_hook(keep)
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=list(images)), False)
        model.extract_feat(data['inputs'])
    handle.remove()
    x, y = seen[0]
    return float(np.linalg.norm(y - x) / np.linalg.norm(x))


def test_unit_output_scale_at_init():
    images = _images()
    # the zero-initialised gate: the identity
    assert unit_output_scale(str(GATED), images, seed=0) == 0.0
    # without it, the branch of a fresh model in training mode, as seeded
    scale = unit_output_scale(str(UNGATED), images, seed=1)
    set_random_seed(1)
    model = init_model(str(UNGATED), init_weights=True).train()
    assert scale > 0.1
    assert scale == pytest.approx(_literal_scale(model, images), rel=1e-5)
    assert unit_output_scale(str(UNGATED), images, seed=2) != scale


def test_unit_output_scale_trained(tmp_path):
    images = _images()
    model = init_model(str(GATED), init_weights=True)
    (_, unit), = glore_units_of(model).items()
    torch.manual_seed(0)
    randomize_gate(unit)  # as training leaves it: the gate open
    checkpoint = str(tmp_path / 'trained.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    scale = unit_output_scale(str(GATED), images, checkpoint)
    assert scale > 0
    assert scale == pytest.approx(
        _literal_scale(model.eval(), images), rel=1e-5)


def test_unit_output_scale_refuses():
    images = _images()
    with pytest.raises(ValueError, match=r'and the units \[\]'):
        unit_output_scale(str(PLAIN), images)
    with pytest.raises(ValueError, match="one of .*layer3.1.glore.* 'nope'"):
        unit_output_scale(str(GATED), images, unit='nope')
