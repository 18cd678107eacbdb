# Copyright (c) glore_mm contributors. All rights reserved.
"""ONNX export refuses detectors, saying where they are exported."""
import sys

import pytest

from glore_mm.deployment import export_spec
from tests.test_mmdet.det_runs import DET_CONFIG
from tests.tool_runner import TOOLS, run_tool


def test_export_spec_refuses_mmdet():
    with pytest.raises(ValueError) as info:
        export_spec('mmdet')
    message = str(info.value)
    for part in ("default_scope='mmdet'", 'not supported', 'mmdeploy',
                 "['mmaction', 'mmpretrain', 'mmseg']"):
        assert part in message, (part, message)


def test_pytorch2onnx_refuses_a_detector(det_base, det_trained):
    out = det_base / 'detector.onnx'
    result = run_tool([
        sys.executable, TOOLS / 'deployment' / 'pytorch2onnx.py', DET_CONFIG,
        det_trained.checkpoint, '--out', out
    ],
                      cwd=det_base,
                      ok=False)
    assert result.returncode == 2, result.stderr[-2000:]
    assert 'mmdeploy' in result.stderr
    assert not out.exists()
