# Copyright (c) glore_mm contributors. All rights reserved.
"""The exported models in OpenVINO, against PyTorch, and the refusals of
the tools.

The tiny trained GloRe FCN (gates opened) goes through
``onnx_infer.py --backend openvino``: at the three sizes of ``--verify``
(one with the unit's other product order) OpenVINO in float32 must agree
with PyTorch within the same 1e-4 (relative) as ONNX Runtime; its mIoU on
the tiny test set must be PyTorch's. The classification and video models
are checked in OpenVINO by ``test_onnx.py``'s export test. With the
device's default precision (bf16 on CPUs with bf16 instructions) the
check keeps the float32 bound and reports what that precision costs.
"""
import os
import re
import sys

import pytest
from mmengine.config import Config

from glore_mm.apis import init_model
from glore_mm.deployment import (RTOL, check_backend, check_tool_inputs,
                                 format_checks, input_shape, load_runtime,
                                 verify_onnx, wrap_for_export)
from tests.test_deployment.deploy_models import (INFER, SEG_CONFIG, SEG_SIZE,
                                                 metrics, pixels_alike)
from tests.tool_runner import REPO, run_tool, tool_env


@pytest.fixture(scope='module')
def openvino_run(seg_run, data_option, tmp_path_factory) -> str:
    """``onnx_infer.py --verify --eval --bench --backend openvino``."""
    result = run_tool([
        sys.executable, INFER, SEG_CONFIG, seg_run.checkpoint, '--verify',
        '--eval', '--bench', '--backend', 'openvino', '--onnx', seg_run.onnx,
        '--shape', *SEG_SIZE, '--repeats', 2, '--threads', 1, '--cfg-options',
        data_option
    ],
                      cwd=tmp_path_factory.mktemp('openvino'))
    return result.stdout


def test_openvino_matches_pytorch_at_three_sizes(openvino_run, seg_run):
    stdout = openvino_run
    assert (f'OpenVINO against PyTorch (openvino, computes in f32): '
            f'{seg_run.onnx}') in stdout
    lines = re.findall(
        r'^ *(export size|other order|other size) (\[[\d, ]+\]) +max abs '
        r'[\d.e+-]+, max rel ([\d.e+-]+) \(tolerance ([\d.e+-]+)\) ok', stdout,
        re.M)
    assert [line[0]
            for line in lines] == ['export size', 'other order',
                                   'other size'], stdout
    # the sizes pytorch2onnx.py --verify checked in ONNX Runtime
    for label, shape, _, _ in lines:
        assert re.search(rf'^ *{label} {re.escape(shape)} ', seg_run.stdout,
                         re.M)
    assert all(float(line[2]) <= RTOL for line in lines)
    assert all(float(line[3]) == RTOL for line in lines)
    assert 'other order in 1 of 1 units (decode_head.glore)' in stdout
    assert 'verification passed for 1 models' in stdout


def test_openvino_eval_agrees(openvino_run):
    torch_miou = metrics(openvino_run, 'PyTorch')['mIoU']
    assert abs(metrics(openvino_run, 'OpenVINO')['mIoU'] - torch_miou) <= 0.01
    same, total = pixels_alike(openvino_run, 'OpenVINO')
    assert total == 2 * 64 * 128 and same >= 0.999 * total


def test_openvino_bench(openvino_run):
    assert re.search(r'^Machine: .*openvino 2026', openvino_run, re.M)
    assert re.search(
        r'^\| 1 \| OpenVINO \| [\d.]+ \| [\d.]+-[\d.]+ \| 2 \| [\d.]+ \|$',
        openvino_run, re.M), openvino_run


def test_openvino_default_precision_is_reported(seg_run):
    cfg = Config.fromfile(SEG_CONFIG)
    module, spec = wrap_for_export(cfg, init_model(cfg,
                                                   str(seg_run.checkpoint)))
    runtime = load_runtime(str(seg_run.onnx), 'openvino', precision='default')
    compiled = runtime.compiled.get_property('INFERENCE_PRECISION_HINT')
    assert runtime.precision == compiled.to_string()
    checks = verify_onnx(module, runtime, input_shape(spec, 2, 3, SEG_SIZE),
                         spec)
    # the float32 bound is kept, whatever the precision
    assert all(check.rtol == RTOL for check in checks)
    report = format_checks(checks, runtime)
    assert f'computes in {runtime.precision})' in report
    if runtime.precision == 'f32':
        assert runtime.name == 'OpenVINO'
    else:
        assert runtime.name == f'OpenVINO {runtime.precision}'
        if not all(check.passed for check in checks):
            assert (f'OpenVINO {runtime.precision} computes in '
                    f'{runtime.precision}: its rounding is above the '
                    'float32 tolerance') in report


def test_missing_backend_refused(monkeypatch, tmp_path, seg_run):
    # in the package: an import that fails
    monkeypatch.setitem(sys.modules, 'openvino', None)
    with pytest.raises(
            ImportError,
            match='openvino is not installed; '
            r'install the deployment requirements'):
        check_backend('openvino')
    with pytest.raises(ValueError, match="backend 'tensorrt' is not one of"):
        check_backend('tensorrt')
    # in the tool: an openvino package that fails to import
    shadow = tmp_path / 'shadow' / 'openvino'
    shadow.mkdir(parents=True)
    (shadow /
     '__init__.py').write_text("raise ImportError('no openvino here')\n")
    env = tool_env(PYTHONPATH=os.pathsep.join([str(shadow.parent), str(REPO)]))
    result = run_tool([
        sys.executable, INFER, SEG_CONFIG, '--bench', '--backend',
        'onnxruntime', 'openvino', '--onnx', seg_run.onnx
    ],
                      cwd=tmp_path,
                      env=env,
                      ok=False)
    assert result.returncode == 2, result.stderr
    assert ('error: --backend openvino: openvino is not installed; install '
            'the deployment requirements') in result.stderr


def test_not_onnx_refused(tmp_path, seg_run):
    not_onnx = tmp_path / 'model.onnx'
    not_onnx.write_bytes(b'PK\x03\x04 a checkpoint, say')
    with pytest.raises(ValueError, match='is not an ONNX model'):
        load_runtime(str(not_onnx), 'openvino')
    missing = tmp_path / 'missing.onnx'
    with pytest.raises(
            FileNotFoundError, match=f"ONNX file '{missing}' does not exist"):
        load_runtime(str(missing))
    result = run_tool([
        sys.executable, INFER, SEG_CONFIG, '--bench', '--onnx', seg_run.onnx,
        '--int8', not_onnx
    ],
                      cwd=tmp_path,
                      ok=False)
    assert result.returncode == 2
    assert f'error: --int8 {not_onnx}: ' in result.stderr
    assert 'is not an ONNX model' in result.stderr
    # a float model where an INT8 one is asked for
    with pytest.raises(ValueError, match='has no quantize/dequantize nodes'):
        check_tool_inputs(
            onnx_files={'--int8': str(seg_run.onnx)}, quantized=['--int8'])
