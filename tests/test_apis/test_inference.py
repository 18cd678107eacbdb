# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.apis.inference: :func:`infer_images` and :func:`infer_videos`
refuse what they cannot run before any input is read, and run the session's
trained tiny models (the demos that call them: tests/test_demo)."""
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from glore_mm.apis import infer_images, infer_videos
from tests.tiny_runs import IMAGE_SIZE, NUM_CLASSES, SEG_CONFIG, VIDEO_CONFIGS
from tests.tool_runner import REPO

VIDEO_CONFIG = ('configs/mmaction/'
                'c2d_r50-glore_8xb32-8x8x1-100e_kinetics400-rgb.py')
IMAGE_CONFIG = 'configs/mmseg/glore_r50-d8_4xb2-40k_cityscapes-512x1024.py'


@pytest.mark.parametrize('infer, config, message', [
    (infer_images, VIDEO_CONFIG, "is an mmaction config; images take a "
     "config of ['mmseg', 'mmpretrain', 'mmdet']"),
    (infer_videos, IMAGE_CONFIG,
     "is an mmseg config; videos take a config of ['mmaction']"),
])
def test_infer_refuses_configs_of_other_libraries(infer, config, message):
    """Refused before any checkpoint or input is read."""
    with pytest.raises(ValueError, match=re.escape(message)):
        infer('missing_input', str(REPO / config), 'missing.pth')
    with pytest.raises(ValueError, match='topk must be at least 1, but got 0'):
        infer('missing_input', str(REPO / config), 'missing.pth', topk=0)


# Segmentation: the tiny GloRe FCN


def test_segmentation_single_image_default_output(val_images, seg_trained,
                                                  monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (files, ) = infer_images(
        str(val_images[1]), str(SEG_CONFIG), str(seg_trained.checkpoint))
    assert Path(files.overlay) == Path('outputs') / f'{val_images[1].stem}.png'
    assert Path(files.label_map) == (
        Path('outputs') / f'{val_images[1].stem}_label.png')
    with Image.open(tmp_path / files.overlay) as overlay:
        assert np.array(overlay).shape == (*IMAGE_SIZE, 3)
    # Nothing but the two outputs: the temporary files were renamed.
    assert sorted(p.name for p in (tmp_path / 'outputs').iterdir()) == sorted(
        [Path(files.overlay).name,
         Path(files.label_map).name])


@pytest.mark.parametrize('kwargs, message', [
    (dict(opacity=0), 'opacity must be in (0, 1], but got 0'),
    (dict(out_file='seg.jpg'), "out_file 'seg.jpg' must end in .png"),
])
def test_segmentation_bad_arguments(val_images, seg_trained, kwargs, message):
    with pytest.raises(ValueError) as error:
        infer_images(
            str(val_images[0]), str(SEG_CONFIG), str(seg_trained.checkpoint),
            **kwargs)
    assert message in str(error.value)


def test_video_config_is_refused_with_a_clear_error(val_images):
    with pytest.raises(ValueError) as error:
        infer_images(
            str(val_images[0]), str(VIDEO_CONFIGS['c2d']), 'unused.pth')
    assert 'is an mmaction config' in str(error.value)
    assert "['mmseg', 'mmpretrain', 'mmdet']" in str(error.value)


# Action recognition: the tiny GloRe C2D


def test_single_video_without_labels(kinetics, c2d_trained):
    video = sorted((kinetics / 'videos_val').glob('*.mp4'))[0]
    (prediction, ) = infer_videos(
        str(video),
        str(VIDEO_CONFIGS['c2d']),
        str(c2d_trained.checkpoint),
        topk=2)
    assert prediction.source == str(video)
    assert prediction.names is None
    assert len(prediction.labels) == 2
    assert prediction.scores[0] >= prediction.scores[1]


@pytest.mark.parametrize('kwargs, error, message', [
    (dict(topk=0), ValueError, 'topk must be at least 1, but got 0'),
    (dict(out_file='drawn.gif'), ValueError,
     "out_file 'drawn.gif': allowed suffixes are ['.avi', '.mp4']"),
    (dict(label_file='missing.txt'), FileNotFoundError,
     "label file 'missing.txt' is not a file"),
])
def test_video_bad_arguments(kinetics, c2d_trained, kwargs, error, message):
    video = sorted((kinetics / 'videos_val').glob('*.mp4'))[0]
    with pytest.raises(error) as raised:
        infer_videos(
            str(video), str(VIDEO_CONFIGS['c2d']), str(c2d_trained.checkpoint),
            **kwargs)
    assert message in str(raised.value)


def test_label_file_of_another_model_is_refused(tmp_path, kinetics,
                                                c2d_trained):
    video = sorted((kinetics / 'videos_val').glob('*.mp4'))[0]
    labels = tmp_path / 'two_labels.txt'
    labels.write_text('a\nb\n')
    with pytest.raises(ValueError) as raised:
        infer_videos(
            str(video),
            str(VIDEO_CONFIGS['c2d']),
            str(c2d_trained.checkpoint),
            label_file=str(labels))
    assert (f"label file '{labels}' names 2 classes, but the model has "
            f'{NUM_CLASSES}') in str(raised.value)
