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

import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config
from torch import nn
from torch.overrides import TorchFunctionMode

from glore_mm.apis import init_model
from glore_mm.deployment import (EXPORT_SPECS, RTOL, export_onnx, export_spec,
                                 input_shape, load_runtime, summarize_onnx,
                                 verify_onnx, wrap_for_export)
from glore_mm.deployment.verify import product_order
from glore_mm.models import glore_units_of
from glore_mm.models.layers.glore_products import (nodes_first,
                                                   nodes_first_threshold)
from tests.test_deployment.deploy_models import (C2D_CONFIG, CLS_CONFIG, INFER,
                                                 SEG_CONFIG, SEG_SIZE,
                                                 VIDEO_CONFIG, metrics,
                                                 open_gates, pixels_alike)
from tests.tool_runner import REPO, run_tool


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
    open_gates(model, module, shape)
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

    checks = verify_onnx(module, load_runtime(str(out)), shape, spec)
    labels = [check.label for check in checks]
    assert labels == ['export size', 'other order', 'other size']
    assert len({check.shape for check in checks}) == 3
    for check in checks:
        assert check.max_rel <= RTOL, check
    # the same sizes in OpenVINO, float32
    openvino = load_runtime(str(out), 'openvino')
    assert openvino.precision == 'f32'
    openvino_checks = verify_onnx(module, openvino, shape, spec)
    assert [c.shape for c in openvino_checks] == [c.shape for c in checks]
    for check in openvino_checks:
        assert check.passed, check
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


@pytest.fixture(scope='module')
def infer_run(seg_run, data_option, tmp_path_factory) -> str:
    """``onnx_infer.py --verify --eval --bench`` in ONNX Runtime."""
    result = run_tool([
        sys.executable, INFER, SEG_CONFIG, seg_run.checkpoint, '--verify',
        '--eval', '--bench', '--onnx', seg_run.onnx, '--shape', 48, 80,
        '--repeats', 3, '--threads', 1, '--cfg-options', data_option
    ],
                      cwd=tmp_path_factory.mktemp('infer'))
    return result.stdout


def test_onnx_infer_verify(infer_run, seg_run):
    assert (f'ONNX Runtime against PyTorch (onnxruntime, computes in f32): '
            f'{seg_run.onnx}') in infer_run
    rels = [float(v) for v in re.findall(r'max rel ([\d.e+-]+)', infer_run)]
    assert len(rels) == 3 and max(rels) <= RTOL
    assert 'verification passed for 1 models' in infer_run


def test_onnx_infer_eval_miou_agrees(infer_run):
    torch_metrics = metrics(infer_run, 'PyTorch ')
    ort_metrics = metrics(infer_run, 'ONNX Runtime ')
    assert set(torch_metrics) == {'aAcc', 'mIoU', 'mAcc'}
    assert 0 < torch_metrics['mIoU'] < 100
    assert abs(torch_metrics['mIoU'] - ort_metrics['mIoU']) <= 0.01
    same, total = pixels_alike(infer_run, 'ONNX Runtime')
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
    # the markdown table, with the command and the machine above it
    assert re.search(r'^python \S*onnx_infer.py .* --bench ', infer_run, re.M)
    assert re.search(r'^Machine: cpu .*onnxruntime 1', infer_run, re.M)
    assert re.search(
        r'^\| 1 \| ONNX Runtime \| [\d.]+ \| [\d.]+-[\d.]+ \| 3 \| '
        r'[\d.]+ \|$', infer_run, re.M), infer_run


def test_float_bound_is_pinned():
    # the bound of --verify in fp32; a looser one would pass broken exports
    assert RTOL == 1e-4


def _scaled_copy(path, out, factor: float) -> None:
    """``path`` with its output multiplied by ``factor``."""
    model = onnx.load(str(path))
    graph = model.graph
    name = graph.output[0].name
    for node in graph.node:
        node.output[:] = [
            f'{name}_raw' if o == name else o for o in node.output
        ]
    graph.initializer.append(
        onnx.numpy_helper.from_array(
            np.array(factor, dtype=np.float32), 'output_factor'))
    graph.node.append(
        onnx.helper.make_node('Mul', [f'{name}_raw', 'output_factor'], [name]))
    onnx.save(model, str(out))


def test_verify_fails_an_output_off_by_1e3(seg_run, tmp_path):
    scaled = tmp_path / 'scaled.onnx'
    _scaled_copy(seg_run.onnx, scaled, 1.001)
    cfg = Config.fromfile(SEG_CONFIG)
    module, spec = wrap_for_export(cfg, init_model(cfg,
                                                   str(seg_run.checkpoint)))
    shape = input_shape(spec, 2, 3, SEG_SIZE)
    for backend in ('onnxruntime', 'openvino'):
        checks = verify_onnx(module, load_runtime(str(scaled), backend), shape,
                             spec)
        assert len(checks) == 3
        for check in checks:
            assert not check.passed and abs(check.max_rel - 1e-3) < 1e-4, (
                backend, check)


def test_checkpoint_of_another_model_refused(tmp_path):
    # the FCN's checkpoint on the GloRe config: the head's keys differ
    fcn = init_model(
        str(REPO / 'configs/mmseg/'
            'fcn_r18-d8_1xb8-1k_brain-mri-128x128.py'))
    checkpoint = tmp_path / 'fcn.pth'
    torch.save({'state_dict': fcn.state_dict()}, checkpoint)
    result = run_tool([
        sys.executable, INFER,
        REPO / 'configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py',
        checkpoint, '--bench', '--shape', 64, 64
    ],
                      cwd=tmp_path,
                      ok=False)
    assert result.returncode == 2, result.stderr
    assert f'error: checkpoint {str(checkpoint)!r}' in result.stderr
    assert 'decode_head.glore' in result.stderr


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
