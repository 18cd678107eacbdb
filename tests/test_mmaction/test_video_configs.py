# Copyright (c) glore_mm contributors. All rights reserved.
"""Every video config under configs/mmaction builds offline, runs one
forward and one loss, and its pipelines sample and crop a real video file
as the config says (8 frames at stride 8; 1x1 or 10x3 test views)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmaction.datasets.transforms import SampleFrames
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from glore_mm.models.layers.glore import _GloReNd

CONFIG_DIR = Path(__file__).parents[2] / 'configs' / 'mmaction'
CONFIGS = sorted(CONFIG_DIR.glob('*.py'))
MODELS_BY_NAME = {
    'i3d_r50': ('GloReResNet3d', 50),
    'i3d_r101': ('GloReResNet3d', 101),
    'c2d_r50': ('GloReC2D', 50),
    'c2d_r101': ('GloReC2D', 101),
}
MULTI_VIEW = '_test-10clip-3crop'
VIDEO_FRAMES, VIDEO_SIZE = 96, (56, 40)  # width, height

register_all_modules(init_default_scope=False)


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """On a busy shared CPU a second OpenMP thread only waits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def video(tmp_path_factory) -> Path:
    """An mp4 of 96 numbered frames: frame i is filled with grey 2*i."""
    path = tmp_path_factory.mktemp('video') / 'clip.mp4'
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, VIDEO_SIZE)
    for i in range(VIDEO_FRAMES):
        writer.write(np.full((*VIDEO_SIZE[::-1], 3), 2 * i, np.uint8))
    writer.release()
    return path


def _model_name(path: Path) -> str:
    return path.name.split('-glore')[0]


def _offline(backbone) -> None:
    backbone.pretrained = None


def test_configs_found():
    names = {c.name for c in CONFIGS}
    for model in MODELS_BY_NAME:
        batch = '8xb8' if model.startswith('i3d') else '8xb32'
        name = f'{model}-glore_{batch}-8x8x1-100e_kinetics400-rgb'
        assert f'{name}.py' in names
        assert f'{name}{MULTI_VIEW}.py' in names
    assert len(names) == 2 * len(MODELS_BY_NAME)


@pytest.mark.parametrize('path', CONFIGS, ids=[c.name for c in CONFIGS])
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmaction'
    assert cfg.custom_imports == dict(
        imports=['glore_mm.mmaction'], allow_failed_imports=False)
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.depth) == MODELS_BY_NAME[_model_name(path)]
    assert backbone.glore_units == 'paper'
    # ImageNet initialisation, as upstream: a 2D checkpoint
    assert 'resnet' in backbone.pretrained
    assert backbone.get('pretrained2d', True)
    _offline(backbone)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    units = [m for m in model.modules() if isinstance(m, _GloReNd)]
    assert len(units) == 5
    assert all(
        torch.count_nonzero(p) == 0 for unit in units
        for p in unit.gate.parameters())
    # one clip [views, C, T, H, W] of 8 frames, through the preprocessor
    data = dict(
        inputs=[torch.randint(0, 256, (1, 3, 8, 48, 40), dtype=torch.uint8)],
        data_samples=[ActionDataSample().set_gt_label(3)])
    model.train()
    losses = model(**model.data_preprocessor(data, training=True), mode='loss')
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'] > 0
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(data), mode='predict')
    assert preds[0].pred_score.shape == (cfg.model.cls_head.num_classes, )
    assert torch.isfinite(preds[0].pred_score).all()


def _run_pipeline(pipeline_cfg, video: Path):
    """Run a pipeline on ``video``; return packed inputs and frame_inds."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        pipeline = Compose([TRANSFORMS.build(t) for t in pipeline_cfg])
    results = dict(filename=str(video), label=0, start_index=0, modality='RGB')
    frame_inds = None
    for transform in pipeline.transforms:
        results = transform(results)
        if isinstance(transform, SampleFrames):
            frame_inds = results['frame_inds'].reshape(results['num_clips'],
                                                       results['clip_len'])
    return results['inputs'], frame_inds


@pytest.mark.parametrize('path', CONFIGS, ids=[c.name for c in CONFIGS])
def test_config_pipelines_on_a_video(path, video):
    """8 frames at stride 8; train/val crops of 224; the default test is
    the paper's 1 clip x 1 center crop, the variant 10 clips x 3 crops."""
    cfg = Config.fromfile(str(path))
    splits = {
        split: cfg[f'{split}_dataloader'].dataset.pipeline
        for split in ('train', 'val', 'test')
    }
    for split, pipeline_cfg in splits.items():
        inputs, frame_inds = _run_pipeline(pipeline_cfg, video)
        assert frame_inds.shape[1] == 8, split
        assert np.all(np.diff(frame_inds, axis=1) == 8), split
        if split != 'test' or MULTI_VIEW not in path.name:
            assert inputs.shape == (1, 3, 8, 224, 224), split
            assert frame_inds.shape[0] == 1
            continue
        # 10 clips x 3 crops; I3D crops 256, C2D 224, as mmaction tests them
        crop = 256 if path.name.startswith('i3d') else 224
        assert inputs.shape == (30, 3, 8, crop, crop)
        assert frame_inds.shape[0] == 10
        assert len(np.unique(frame_inds[:, 0])) == 10
    # the default test crops the center of the short side resized to 256
    if MULTI_VIEW not in path.name:
        test_cfg = [
            t for t in splits['test'] if t['type'] in ('Resize', 'CenterCrop')
        ]
        assert [(t['type'], t.get('scale'), t.get('crop_size'))
                for t in test_cfg] == [('Resize', (-1, 256), None),
                                       ('CenterCrop', None, 224)]
