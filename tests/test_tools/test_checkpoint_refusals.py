# Copyright (c) glore_mm contributors. All rights reserved.
"""Every tool that reads a checkpoint refuses one that is not one, or that
does not fit its model, the same way: exit status 2 and a message naming
the file. Each tool runs as a process on the tiny GloRe FCN config with a
text file, random bytes and a checkpoint of the plain FCN it extends."""
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch

from glore_mm.apis import init_model
from tests.tiny_runs import SEG_CONFIG as CONFIG
from tests.tool_runner import REPO, TOOLS, run_tool, tool_env

# mmseg's FCN-R18-D8 shrunk as the tiny GloRe config is: the same model
# without the GloRe unit of its head.
FCN_CONFIG = 'mmseg::fcn/fcn_r18-d8_4xb2-80k_cityscapes-512x1024.py'
FCN_SHRINK = {
    'model.pretrained': None,
    'model.backbone.stem_channels': 8,
    'model.backbone.base_channels': 8,
    'model.decode_head.in_channels': 64,
    'model.decode_head.channels': 16,
    'model.auxiliary_head.in_channels': 32,
    'model.auxiliary_head.channels': 8,
}
MESSAGES = {
    'text': 'is not a PyTorch checkpoint',
    'random': 'is not a PyTorch checkpoint',
    'fcn': 'does not fit the model',
}


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('checkpoint_refusals')


@pytest.fixture(scope='module')
def checkpoints(base: Path) -> Dict[str, Path]:
    """The three wrong checkpoints, by kind."""
    text = base / 'notes.pth'
    text.write_text('a text file, not a checkpoint\n')
    random = base / 'random.pth'
    random.write_bytes(np.random.default_rng(0).bytes(4096))
    fcn = base / 'fcn.pth'
    model = init_model(FCN_CONFIG, cfg_options=FCN_SHRINK)
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, fcn)
    return {'text': text, 'random': random, 'fcn': fcn}


@pytest.fixture(scope='module')
def image(base: Path) -> Path:
    from PIL import Image
    path = base / 'street.png'
    pixels = np.random.default_rng(1).integers(0, 256, (64, 128, 3))
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def _refused(base: Path, kind: str, checkpoint: Path, cmd: List) -> None:
    """Run ``cmd``: exit 2, the file and what is wrong named in the error
    line, and none of the tool's outputs written."""
    result = run_tool(cmd, base, tool_env(OMP_NUM_THREADS='1'), ok=False)
    assert result.returncode == 2, result.stderr[-3000:]
    error = result.stderr.strip().splitlines()[-1]
    assert 'error: ' in error, result.stderr[-3000:]
    assert f'{str(checkpoint)!r} {MESSAGES[kind]}' in error, error
    assert not list(base.glob('out_*/*')), list(base.glob('out_*/*'))


@pytest.mark.parametrize('kind', sorted(MESSAGES))
def test_test_tool(base, checkpoints, kind):
    checkpoint = checkpoints[kind]
    _refused(base, kind, checkpoint, [
        sys.executable, TOOLS / 'test.py', CONFIG, checkpoint, '--work-dir',
        base / f'work_{kind}', '--out', base / f'out_{kind}'
    ])


@pytest.mark.parametrize('kind', sorted(MESSAGES))
def test_image_demo(base, checkpoints, image, kind):
    checkpoint = checkpoints[kind]
    _refused(base, kind, checkpoint, [
        sys.executable, REPO / 'demo' / 'image_demo.py', image, CONFIG,
        checkpoint, '--out-file', base / f'out_{kind}' / 'street.png'
    ])


@pytest.mark.parametrize('kind', sorted(MESSAGES))
def test_vis_projection(base, checkpoints, image, kind):
    checkpoint = checkpoints[kind]
    _refused(base, kind, checkpoint, [
        sys.executable, TOOLS / 'visualization' / 'vis_projection.py', CONFIG,
        checkpoint, image, '--out', base / f'out_{kind}'
    ])


@pytest.mark.parametrize('kind', sorted(MESSAGES))
def test_pytorch2onnx(base, checkpoints, kind):
    pytest.importorskip('onnx')
    checkpoint = checkpoints[kind]
    _refused(base, kind, checkpoint, [
        sys.executable, TOOLS / 'deployment' / 'pytorch2onnx.py', CONFIG,
        checkpoint, '--out', base / f'out_{kind}' / 'model.onnx'
    ])
