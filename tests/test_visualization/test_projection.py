# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.visualization.projection: which maps and nodes are drawn, and
what :func:`visualize` refuses (the pictures the tool draws:
tests/test_tools/test_vis_projection.py)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from glore_mm.visualization import projection as vis
from tests.tiny_runs import random_checkpoint
from tests.tool_runner import REPO

SEG_CONFIG = REPO / 'configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py'
FCN_CONFIG = REPO / 'configs/mmseg/fcn_r18-d8_1xb8-1k_brain-mri-128x128.py'


def test_frame_maps_3d():
    proj = torch.zeros(1, 5, 4, 2, 2)
    pairs = vis.frame_maps(proj, 16)
    assert [index for index, _ in pairs] == [2, 6, 10, 14]
    assert pairs[0][1].shape == (5, 2, 2)
    # a 2D unit of a video model: frames in the batch axis
    assert [i for i, _ in vis.frame_maps(torch.zeros(8, 5, 2, 2), 8)
            ] == list(range(8))


def test_select_nodes():
    proj = torch.zeros(1, 4, 3, 3)
    proj[0, 2, 1, 1] = 5.0
    proj[0, 0, 0, 0] = 1.0
    proj[0, 3] = 7.0  # large but flat
    assert vis.select_nodes(proj, 2) == [2, 0]
    assert vis.select_nodes(proj, 9) == [2, 0, 1, 3]


@pytest.fixture(scope='module')
def seg_files(tmp_path_factory):
    """A slice-like image and checkpoints of the GloRe and FCN models."""
    root = tmp_path_factory.mktemp('vis_refusals')
    image = root / 'slice.png'
    pixels = np.random.default_rng(0).integers(0, 200, (100, 120), np.uint8)
    cv2.imwrite(str(image), np.dstack([pixels] * 3))
    return dict(
        image=image,
        glore=random_checkpoint(SEG_CONFIG, root / 'glore.pth'),
        fcn=random_checkpoint(FCN_CONFIG, root / 'fcn.pth'))


def _refused(error: type,
             pattern: str,
             config: Path,
             checkpoint,
             image,
             out: Path,
             unit_names=None) -> None:
    """The package refuses the arguments: ``error`` matching ``pattern``."""
    with pytest.raises(error, match=pattern):
        vis.visualize(
            Config.fromfile(str(config)),
            str(checkpoint),
            str(image),
            str(out),
            unit_names=unit_names)
    assert not out.exists() or not any(out.iterdir())


def test_errors(seg_files, tmp_path):
    image, glore, fcn = seg_files['image'], seg_files['glore'], seg_files[
        'fcn']
    _refused(ValueError, r'no GloRe unit.*decode_head \(FCNHead\)', FCN_CONFIG,
             fcn, image, tmp_path / 'a')
    _refused(
        ValueError,
        r"unknown --unit \['head.glore'\].*\['decode_head.glore'\]",
        SEG_CONFIG,
        glore,
        image,
        tmp_path / 'b',
        unit_names=['head.glore'])
    _refused(
        ValueError, r'does not fit the model .* keys are missing '
        r'\(decode_head\.glore\.', SEG_CONFIG, fcn, image, tmp_path / 'c')
    _refused(FileNotFoundError, 'does not exist', SEG_CONFIG, glore,
             tmp_path / 'missing.png', tmp_path / 'd')
    text = tmp_path / 'not_an_image.png'
    text.write_text('hello')
    _refused(ValueError, 'cannot read input', SEG_CONFIG, glore, text,
             tmp_path / 'e')
