# Copyright (c) glore_mm contributors. All rights reserved.
"""ONNX export of GloRe models, checked against PyTorch in ONNX Runtime.

The shrunk segmentation (GloRe head, ``normalize=True``), classification
(GloReResNet, units in ``layer3``) and video (I3D with GloRe3d; C2D with
GloRe3d over the clip) configs are exported with random weights and open
gates (random gate norms: a closed gate makes a unit the identity, and the
check would not see it). ONNX Runtime must match PyTorch within 1e-4
(relative) at the export size, at a size where the units take their other
product order, and at a third size.
The segmentation model goes through the real tools: export with
``--verify``, the mIoU of a tiny Cityscapes-format tree through both
runtimes, and the latency benchmark.
"""
import re
import sys
from pathlib import Path
from typing import Dict, NamedTuple, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from tool_runner import REPO, TOOLS, run_tool
from torch import nn
from torch.overrides import TorchFunctionMode

from glore_mm.apis import init_model
from glore_mm.deployment import (EXPORT_SPECS, RTOL, export_onnx, export_spec,
                                 input_shape, load_ort_model, summarize_onnx,
                                 verify_onnx, wrap_for_export)
from glore_mm.deployment.verify import product_order
from glore_mm.models import glore_units_of
from glore_mm.models.layers.glore_products import (nodes_first,
                                                   nodes_first_threshold)

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
MAKE_CITYSCAPES = TOOLS / 'dataset_converters' / 'make_tiny_cityscapes.py'
# export size of the segmentation model: 4x8 positions at the GloRe head
SEG_SIZE = (32, 64)


def _open_gates(model: nn.Module,
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


def _closed_output(model: nn.Module, module: nn.Module,
                   x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with every gate of ``model`` zeroed, then restored."""
    norms = [unit.norm for unit in glore_units_of(model).values()]
    saved = [(norm.weight.clone(), norm.bias.clone()) for norm in norms]
    try:
        with torch.no_grad():
            for norm in norms:
                norm.weight.zero_()
                norm.bias.zero_()
            return module(x)
    finally:
        with torch.no_grad():
            for norm, (weight, bias) in zip(norms, saved):
                norm.weight.copy_(weight)
                norm.bias.copy_(bias)


@pytest.mark.parametrize(
    'config, size, num_units',
    [
        # units in layer3 (stride 16) of ResNet-50 with 8 base channels
        (CLS_CONFIG, (64, 64), 3),
        # the paper's units in layer2 and layer3 of I3D, 4-frame clips
        (VIDEO_CONFIG, (4, 32, 32), 5),
        # GloRe3d units over the clip after per-frame blocks of C2D: the
        # frames are folded into clips with the input's batch
        (C2D_CONFIG, (4, 32, 32), 2),
    ],
    ids=['mmpretrain', 'mmaction', 'mmaction-c2d'])
def test_export_matches_pytorch(tmp_path, config, size, num_units):
    cfg = Config.fromfile(config)
    model = init_model(cfg)
    module, spec = wrap_for_export(cfg, model)
    assert len(glore_units_of(model)) == num_units
    shape = input_shape(spec, 2, 3, size)
    _open_gates(model, module, shape)
    example = torch.randn(shape)
    out = tmp_path / 'model.onnx'
    export_onnx(module, example, str(out), spec)
    summary = summarize_onnx(str(out))
    free = summary.dynamic_axes()
    assert set(free[spec.input_name].values()) == {
        axis
        for axis in spec.input_axes if axis != 'channels'
    }
    assert list(free[spec.output_name].values()) == ['batch']

    checks = verify_onnx(module, load_ort_model(str(out)), shape, spec)
    labels = [check.label for check in checks]
    assert labels == ['export size', 'other order', 'other size']
    assert len({check.shape for check in checks}) == 3
    for check in checks:
        assert check.max_rel <= RTOL, check
    # the second size makes some unit take the other product order
    export_units, other_units = checks[0].units, checks[1].units
    assert any(other_units[name].nodes_first != record.nodes_first
               for name, record in export_units.items())
    # every unit's branch contributes, and so do the units to the output
    assert all(record.branch > 0.1 for record in export_units.values())
    x = torch.randn(shape)
    with torch.no_grad():
        opened = module(x)
    closed = _closed_output(model, module, x)
    assert (opened - closed).abs().max() > 1e-2 * opened.abs().max()
    with torch.no_grad():
        assert torch.equal(module(x), opened), 'the gates were not restored'


def test_nodes_first_threshold_is_the_units_rule():
    for channels, num_state, num_node in [(16, 8, 4), (512, 256, 128),
                                          (64, 32, 16), (12, 1, 11)]:
        threshold = nodes_first_threshold(channels, num_state, num_node)
        orders = [
            nodes_first(channels, num_state, num_node, length)
            for length in range(1, 2000)
        ]
        if threshold is None:
            assert not any(orders)
        else:
            assert not any(orders[:threshold - 1])
            assert all(orders[threshold - 1:])


def test_input_shape_errors():
    spec = EXPORT_SPECS['mmaction']
    assert input_shape(spec, 2, 3, (4, 32, 32)) == (2, 3, 4, 32, 32)
    with pytest.raises(ValueError, match=r'3 values \(TIME HEIGHT WIDTH\)'):
        input_shape(spec, 1, 3, (32, 32))
    with pytest.raises(ValueError, match='must be positive'):
        input_shape(spec, 0, 3, (4, 32, 32))
    with pytest.raises(ValueError, match="default_scope='mmdet'"):
        export_spec('mmdet')


# -- the tools, on the segmentation model ------------------------------------


class SegRun(NamedTuple):
    checkpoint: Path
    onnx: Path
    stdout: str


@pytest.fixture(scope='module')
def tiny_cityscapes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('data') / 'tiny_cityscapes'
    run_tool([
        sys.executable, MAKE_CITYSCAPES, root, '--num-train', 2, '--num-val',
        2, '--size', 64, 128
    ],
             cwd=root.parent)
    return root


@pytest.fixture(scope='module')
def seg_run(tmp_path_factory, tiny_cityscapes) -> SegRun:
    """The tiny GloRe FCN trained for 4 iterations, gates opened, exported.

    MMEngine's Runner trains it on the tiny Cityscapes tree; the gates
    (near zero after 4 iterations) get random weights; the checkpoint is
    exported by ``tools/deployment/pytorch2onnx.py --verify``.
    """
    base = tmp_path_factory.mktemp('seg')
    cfg = Config.fromfile(SEG_CONFIG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(tiny_cityscapes)
    cfg.merge_from_dict({
        'work_dir': str(base / 'train'),
        'train_cfg.max_iters': 4,
        'train_cfg.val_interval': 100,
        'default_hooks.checkpoint.interval': 4,
    })
    Runner.from_cfg(cfg).train()
    model = init_model(cfg, str(base / 'train' / 'iter_4.pth'))
    module, spec = wrap_for_export(cfg, model)
    (unit, ) = glore_units_of(model).values()
    assert unit.normalize, 'the GloRe head must divide by the positions'
    _open_gates(model, module, input_shape(spec, 2, 3, SEG_SIZE))
    checkpoint = base / 'open_gates.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    out = base / 'seg.onnx'
    result = run_tool([
        sys.executable, EXPORT, SEG_CONFIG, checkpoint, '--out', out,
        '--shape', *SEG_SIZE, '--verify'
    ],
                      cwd=base)
    return SegRun(checkpoint, out, result.stdout)


def test_pytorch2onnx_verify(seg_run):
    stdout = seg_run.stdout
    assert seg_run.onnx.is_file()
    assert not list(seg_run.onnx.parent.glob('.seg.onnx.*')), 'temp file left'
    assert 'input:  inputs [batch, 3, height, width]' in stdout
    assert 'output: logits [batch, 19, height, width]' in stdout
    assert re.search(r'ops \(\d+ nodes, \d+ types\): .*Conv \d+', stdout)
    assert 'verification passed at 3 sizes' in stdout
    # the head's unit at 32x64 (4x8 positions) and at the other size
    unit_line = re.search(
        r'^  decode_head.glore: C=16, L=32 positions, order nodes first, '
        r'branch \|unit\(x\) - x\| / \|x\| = ([\d.e+-]+)$', stdout, re.M)
    assert unit_line and float(unit_line.group(1)) > 0.1, stdout
    other = next(ln for ln in stdout.splitlines() if 'other order' in ln)
    assert 'other order in 1 of 1 units (decode_head.glore)' in other
    rels = [float(v) for v in re.findall(r'max rel ([\d.e+-]+)', stdout)]
    assert len(rels) == 3 and max(rels) <= RTOL


def _metrics(stdout: str, name: str) -> Dict[str, float]:
    line = next(ln for ln in stdout.splitlines() if ln.startswith(name))
    return {k: float(v) for k, v in re.findall(r'(\w+): ([\d.]+)', line)}


@pytest.fixture(scope='module')
def infer_run(seg_run, tiny_cityscapes, tmp_path_factory) -> str:
    """``onnx_infer.py --eval --bench`` on the exported model."""
    result = run_tool([
        sys.executable, INFER, SEG_CONFIG, seg_run.checkpoint, '--eval',
        '--bench', '--onnx', seg_run.onnx, '--shape', 48, 80, '--repeats', 3,
        '--threads', 1, '--cfg-options',
        f'test_dataloader.dataset.data_root={tiny_cityscapes}'
    ],
                      cwd=tmp_path_factory.mktemp('infer'))
    return result.stdout


def test_onnx_infer_eval_miou_agrees(infer_run):
    torch_metrics = _metrics(infer_run, 'PyTorch ')
    ort_metrics = _metrics(infer_run, 'ONNX Runtime ')
    assert set(torch_metrics) == {'aAcc', 'mIoU', 'mAcc'}
    assert 0 < torch_metrics['mIoU'] < 100
    assert abs(torch_metrics['mIoU'] - ort_metrics['mIoU']) <= 0.01
    same, total = map(
        int,
        re.search(r'pixels labelled alike: (\d+) of (\d+)',
                  infer_run).groups())
    # 2 val images of 64x128, every pixel predicted by both
    assert total == 2 * 64 * 128
    assert same >= 0.999 * total


def test_onnx_infer_bench(infer_run, seg_run):
    assert f'weights: {seg_run.checkpoint}' in infer_run
    assert 'input [1, 3, 48, 80]' in infer_run
    assert 'threads: 1' in infer_run
    for name in ('PyTorch', 'ONNX Runtime'):
        assert re.search(
            rf'^{name} +median +[\d.]+ ms +\(min [\d.]+, max '
            rf'[\d.]+, 3 runs\)$', infer_run, re.M), infer_run
    assert re.search(r'ONNX Runtime / PyTorch \(medians\): [\d.]+', infer_run)


def test_init_model_missing_checkpoint(tmp_path):
    missing = tmp_path / 'missing.pth'
    with pytest.raises(
            FileNotFoundError, match=f"checkpoint '{missing}' is not a file"):
        init_model(Config.fromfile(SEG_CONFIG), str(missing))


@pytest.fixture(scope='module')
def head_unit() -> nn.Module:
    """The GloRe unit of the tiny FCN's head (16 channels, 4 nodes)."""
    (unit, ) = glore_units_of(init_model(Config.fromfile(SEG_CONFIG))).values()
    return unit


class _RecordProducts(TorchFunctionMode):
    """Record the operand shapes of every ``torch.bmm``."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.bmm:
            self.shapes.append((tuple(args[0].shape), tuple(args[1].shape)))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize('size', [(1, 5), (2, 3), (8, 8)])
def test_recorded_order_is_the_one_the_unit_takes(head_unit, size):
    unit = head_unit
    x = torch.randn(1, 16, *size)
    length = size[0] * size[1]
    with torch.no_grad(), _RecordProducts() as products:
        unit(x)
    # pooling onto the nodes: the input itself [1, C, L] times B^T, or the
    # states [1, num_state, L] times B^T
    pooled = [a for a, b in products.shapes if b == (1, length, 4)]
    assert len(pooled) == 1
    nodes_first = pooled[0] == (1, 16, length)
    assert pooled[0] == ((1, 16, length) if nodes_first else (1, 8, length))
    assert product_order(unit, x) is nodes_first
    assert nodes_first is (length >= nodes_first_threshold(16, 8, 4))
