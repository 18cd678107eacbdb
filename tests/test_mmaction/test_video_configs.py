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

from glore_mm.models.layers.glore import GloReNd

CONFIG_DIR = Path(__file__).parents[2] / 'configs' / 'mmaction'
# the Kinetics-400 recipes; the small configs of the experiments and the
# worked example are run end to end by their own tests
CONFIGS = sorted(CONFIG_DIR.glob('*-100e_kinetics400-rgb*.py'))
MODELS_BY_NAME = {
    'i3d_r50': ('GloReResNet3d', 50),
    'i3d_r101': ('GloReResNet3d', 101),
    'c2d_r50': ('GloReC2D', 50),
    'c2d_r101': ('GloReC2D', 101),
}
MULTI_VIEW = '_test-10clip-3crop'
AUTHORS = '-authors-100e'
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
    authors = {n for n in names if AUTHORS in n}
    assert authors == {
        'i3d_r50-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py',
        'i3d_r101-glore_8xb8-8x8x1-authors-100e_kinetics400-rgb.py'
    }
    assert len(names) == 2 * len(MODELS_BY_NAME) + len(authors)


@pytest.mark.parametrize('path', CONFIGS, ids=[c.name for c in CONFIGS])
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmaction'
    assert cfg.custom_imports.imports[0] == 'glore_mm.mmaction'
    assert cfg.custom_imports.allow_failed_imports is False
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
    units = [m for m in model.modules() if isinstance(m, GloReNd)]
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


@pytest.mark.parametrize('depth', [50, 101])
def test_authors_recipe(depth):
    """The authors' Kinetics recipe reaches the optimizer and schedulers:
    Nesterov SGD at lr 0.05 for 64 clips, weight decay 1e-4 except on
    biases, half the lr on the 3x3 convs, warm-up from 0.1x over 1500
    iterations, x0.1 after epochs 45, 65, 85, precise BN every epoch."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import HOOKS
    name = f'i3d_r{depth}-glore_8xb8-8x8x1{AUTHORS}_kinetics400-rgb.py'
    cfg = Config.fromfile(str(CONFIG_DIR / name))
    assert cfg.model.backbone.depth == depth
    assert cfg.train_dataloader.batch_size * 8 == 64
    _offline(cfg.model.backbone)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        # the Runner takes `priority` off before it builds a hook
        hooks = [
            HOOKS.build({
                k: v
                for k, v in h.items() if k != 'priority'
            }) for h in cfg.custom_hooks
        ]
    optimizer = wrapper.optimizer
    assert type(optimizer).__name__ == 'SGD'
    assert not wrapper.clip_grad_kwargs  # no gradient clipping
    settings = {}
    for group in optimizer.param_groups:
        for param in group['params']:
            settings[id(param)] = (group['lr'], group['weight_decay'],
                                   group['nesterov'], group['momentum'])
    expected = {
        'backbone.layer1.0.conv2.conv.weight': (0.025, 1e-4),
        'backbone.layer1.0.conv2.bn.weight': (0.025, 1e-4),
        'backbone.layer1.0.conv2.bn.bias': (0.025, 0.0),
        'backbone.layer1.0.conv1.conv.weight': (0.05, 1e-4),
        'backbone.layer1.0.conv1.bn.weight': (0.05, 1e-4),
        'backbone.layer1.0.conv1.bn.bias': (0.05, 0.0),
        'backbone.layer2.0.glore.conv_state.weight': (0.05, 1e-4),
        'backbone.layer2.0.glore.conv_state.bias': (0.05, 0.0),
        'backbone.layer2.0.glore.gcn.conv_node.bias': (0.05, 0.0),
        'backbone.layer2.0.glore.norm.weight': (0.05, 1e-4),
        'backbone.layer2.0.glore.norm.bias': (0.05, 0.0),
        'cls_head.fc_cls.weight': (0.05, 1e-4),
        'cls_head.fc_cls.bias': (0.05, 0.0),
    }
    params = dict(model.named_parameters())
    for key, (lr, decay) in expected.items():
        assert settings[id(params[key])] == pytest.approx(
            (lr, decay, True, 0.9)), key
    # every parameter of a 3x3 conv at half the lr, and only those
    for key, param in params.items():
        half = '.conv2.' in key
        assert settings[id(param)][0] == pytest.approx(
            0.025 if half else 0.05), key
        if key.endswith('.bias'):
            assert settings[id(param)][1] == 0.0, key
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.by_epoch, warmup.begin,
            warmup.end) == ('LinearLR', 0.1, False, 0, 1500)
    assert (steps.type, steps.milestones, steps.gamma,
            steps.by_epoch) == ('MultiStepLR', [45, 65, 85], 0.1, True)
    # precise BN after the hooks of configs/_base_/glore_runtime.py
    names = [type(h).__name__ for h in hooks]
    assert names == ['RandomStateHook', 'TestProgressBarHook', 'PreciseBNHook']
    assert hooks[-1].interval == 1
    assert cfg.custom_hooks[-1].priority == 'ABOVE_NORMAL'
