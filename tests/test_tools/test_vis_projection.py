# Copyright (c) glore_mm contributors. All rights reserved.
"""tools/visualization/vis_projection.py on segmentation, classification
and video models, from checkpoints of built models (the pieces of
:mod:`glore_mm.visualization.projection` it draws with, and what they
refuse: tests/test_visualization)."""
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from glore_mm.visualization import projection as vis
from tests.tiny_runs import random_checkpoint
from tests.tool_runner import REPO, TOOLS, run_tool

TOOL = TOOLS / 'visualization' / 'vis_projection.py'
SEG_CONFIG = REPO / 'configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py'
FCN_CONFIG = REPO / 'configs/mmseg/fcn_r18-d8_1xb8-1k_brain-mri-128x128.py'
CLS_CONFIG = (
    REPO / 'configs/mmpretrain/resnet18-cifar_fashion-mnist_glore-res3x1.py')
VIDEO_CONFIG = """
default_scope = 'mmaction'
custom_imports = dict(imports=['glore_mm.mmaction'],
                      allow_failed_imports=False)
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='GloReResNet3d', depth=18, base_channels=16, pretrained=None,
        pretrained2d=False, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1),
        glore_units='res4x1'),
    cls_head=dict(type='I3DHead', num_classes=3, in_channels=128),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=1, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
"""


def _perturb(key: str):
    """Return an edit that adds noise to one parameter."""

    def edit(state):
        generator = torch.Generator().manual_seed(1)
        state[key] = state[key] + torch.randn(
            state[key].shape, generator=generator)

    return edit


def _command(config, checkpoint, image, out, *options) -> list:
    return [
        sys.executable, TOOL, config, checkpoint, image, '--out', out, *options
    ]


def _run(config, checkpoint, image, out, *options) -> list:
    """Run the tool; the PNGs it wrote, the files whose paths it printed."""
    result = run_tool(
        _command(config, checkpoint, image, out, *options), cwd=REPO)
    folder = Path(out) / 'vis_data' / 'vis_image'
    files = sorted(p.name for p in folder.glob('*.png'))
    printed = [
        line for line in result.stdout.splitlines() if line.endswith('.png')
    ]
    assert sorted(Path(line).name for line in printed) == files
    assert all(Path(line).is_file() for line in printed)
    return files


def _fails(pattern: str, *args) -> None:
    """Run the tool on ``args``; it must refuse them as argparse does: usage,
    ``vis_projection.py: error: <pattern>``, exit status 2."""
    result = run_tool(_command(*args), cwd=REPO, ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith('usage: vis_projection.py')
    assert re.search(f'vis_projection.py: error: {pattern}',
                     result.stderr), result.stderr
    assert 'Traceback' not in result.stderr


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image


def _tile_grid(picture: np.ndarray, top: int) -> list:
    """Number of tiles per row below ``top``, split by all-white lines."""

    def runs(flags):
        count, inside = [], False
        for i, flag in enumerate(flags):
            if flag and not inside:
                count.append(i)
            inside = flag
        return len(count), count

    grid = picture[top:]
    row_used = ~(grid == 255).all(axis=(1, 2))
    num_rows, starts = runs(row_used)
    tiles = []
    for start in starts:
        stop = start
        while stop < len(row_used) and row_used[stop]:
            stop += 1
        band = grid[start:stop]
        tiles.append(runs(~(band == 255).all(axis=(0, 2)))[0])
    return tiles


@pytest.fixture(scope='module')
def seg_case(tmp_path_factory):
    root = tmp_path_factory.mktemp('vis_seg')
    rng = np.random.default_rng(0)
    image = root / 'slice.png'
    yy, xx = np.mgrid[:100, :120]
    blob = ((yy - 50)**2 / 40**2 + (xx - 60)**2 / 50**2 < 1) * 150
    pixels = (blob + rng.integers(0, 60, blob.shape)).astype(np.uint8)
    cv2.imwrite(str(image), np.dstack([pixels] * 3))
    ckpt = random_checkpoint(SEG_CONFIG, root / 'glore.pth')
    ckpt_proj = random_checkpoint(
        SEG_CONFIG,
        root / 'proj.pth',
        edit=_perturb('decode_head.glore.conv_proj.weight'))
    ckpt_extend = random_checkpoint(
        SEG_CONFIG,
        root / 'extend.pth',
        edit=_perturb('decode_head.glore.conv_extend.weight'))
    return dict(
        root=root,
        image=image,
        ckpt=ckpt,
        ckpt_proj=ckpt_proj,
        ckpt_extend=ckpt_extend)


def test_seg_png_layout(seg_case):
    out = seg_case['root'] / 'out'
    files = _run(SEG_CONFIG, seg_case['ckpt'], seg_case['image'], out,
                 '--nodes', '3')
    assert files == ['decode_head.glore_0.png']
    picture = _read(out / 'vis_data/vis_image/decode_head.glore_0.png')
    # tiles of the 100x120 slice (not padded in testing) are 80x96
    layout = vis.projection_layout(16, 3, (80, 96))
    assert picture.shape[:2] == layout.canvas_hw
    # 16 nodes under a top row of 4 large tiles (4 * 196 px): 7 + 7 + 2
    assert layout.grid_shape == (3, 7)
    grid_top = layout.node_boxes[0].y
    assert _tile_grid(picture, grid_top) == [7, 7, 2]
    # the top row: the input and 3 highlighted nodes
    top = picture[layout.input_box.y:grid_top - vis.PAD]
    assert _tile_grid(top.transpose(1, 0, 2), 0) == [1, 1, 1, 1]


def test_seg_png_depends_on_projection(seg_case):
    root = seg_case['root']
    pictures = {}
    for key in ('ckpt', 'ckpt_proj', 'ckpt_extend'):
        out = root / f'dep_{key}'
        _run(SEG_CONFIG, seg_case[key], seg_case['image'], out)
        pictures[key] = _read(out / 'vis_data/vis_image/'
                              'decode_head.glore_0.png')
    # B = conv_proj(x): new projection weights, new maps
    assert pictures['ckpt'].shape == pictures['ckpt_proj'].shape
    changed = (pictures['ckpt'] != pictures['ckpt_proj']).any(-1).mean()
    assert changed > 0.2
    # the unit's extension comes after B: the picture is the same
    np.testing.assert_array_equal(pictures['ckpt'], pictures['ckpt_extend'])


def test_cls_grayscale(tmp_path):
    image = tmp_path / 'item.png'
    pixels = np.zeros((28, 28), np.uint8)
    pixels[6:22, 9:19] = 200
    cv2.imwrite(str(image), pixels)
    ckpt = random_checkpoint(CLS_CONFIG, tmp_path / 'cls.pth')
    files = _run(CLS_CONFIG, ckpt, image, tmp_path / 'out', '--nodes', '2',
                 '--tile-size', '40')
    assert files == ['backbone.layer2.1.glore_0.png']
    picture = _read(tmp_path / 'out/vis_data/vis_image' / files[0])
    # 8 nodes of 40x40 fit in one row under 3 large tiles of 80x80
    layout = vis.projection_layout(8, 2, (40, 40))
    assert picture.shape[:2] == layout.canvas_hw
    assert _tile_grid(picture, layout.node_boxes[0].y) == [5, 3]
    # the image is drawn, grey, in the input box (80/28 times larger; the
    # contours of the highlighted nodes may cross it)
    box = layout.input_box
    inside = picture[box.y + 20:box.y + 60, box.x + 28:box.x + 52]
    assert (np.abs(inside.astype(int) - 200) <= 1).all(-1).mean() > 0.5


def _write_video(path: Path, num_frames: int = 16) -> None:
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10, (96, 80))
    for i in range(num_frames):
        frame = np.full((80, 96, 3), 40, np.uint8)
        cv2.circle(frame, (10 + 4 * i, 40), 12, (0, 200, 255), -1)
        writer.write(frame)
    writer.release()


def test_video_3d(tmp_path):
    config = tmp_path / 'i3d_tiny_glore.py'
    config.write_text(VIDEO_CONFIG)
    video = tmp_path / 'clip.mp4'
    _write_video(video)
    ckpt = random_checkpoint(config, tmp_path / 'i3d.pth')
    files = _run(config, ckpt, video, tmp_path / 'out', '--frames', '2',
                 '--tile-size', '32')
    # layer3's maps have 4 time steps (pool2 halves the 8 frames): steps 0
    # and 3 are drawn on the input frames at their middles, 1 and 7
    assert files == [
        'backbone.layer3.1.glore_1.png', 'backbone.layer3.1.glore_7.png'
    ]
    first, last = (
        _read(tmp_path / 'out/vis_data/vis_image' / name) for name in files)
    layout = vis.projection_layout(16, 4, (32, 32))
    assert first.shape[:2] == last.shape[:2] == layout.canvas_hw
    assert _tile_grid(first, layout.node_boxes[0].y) == [9, 7]
    assert (first != last).any()


def test_tool_refuses_a_model_without_units(seg_case, tmp_path):
    """What the package refuses reaches the user's terminal as a usage
    error (the refusals themselves: tests/test_visualization)."""
    fcn_ckpt = random_checkpoint(FCN_CONFIG, tmp_path / 'fcn.pth')
    _fails(r'.*no GloRe unit.*decode_head \(FCNHead\)', FCN_CONFIG, fcn_ckpt,
           seg_case['image'], tmp_path / 'a')
    assert not (tmp_path / 'a').exists() or not any((tmp_path / 'a').iterdir())
