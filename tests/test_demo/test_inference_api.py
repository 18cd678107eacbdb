# Copyright (c) glore_mm contributors. All rights reserved.
"""The parts of glore_mm.apis that need no model: which library a config
belongs to, where outputs go, atomic writes, clear errors."""
import os
import re

import pytest
from mmengine.config import Config
from tool_runner import REPO

from glore_mm.apis import (config_library, infer_images, infer_videos,
                           list_inputs, segmentation_outputs, top_k,
                           video_outputs)
from glore_mm.utils.fileio import atomic_output


@pytest.mark.parametrize('cfg, library', [
    (dict(default_scope='mmseg'), 'mmseg'),
    (dict(default_scope='mmpretrain',
          model=dict(type='EncoderDecoder')), 'mmpretrain'),
    (dict(model=dict(type='Recognizer3D')), 'mmaction'),
    (dict(default_scope=None,
          model=dict(type='ImageClassifier')), 'mmpretrain'),
])
def test_config_library(cfg, library):
    assert config_library(Config(cfg)) == library


def test_config_library_unknown():
    cfg = Config(dict(default_scope='mmocr', model=dict(type='DBNet')))
    with pytest.raises(ValueError) as error:
        config_library(cfg)
    message = str(error.value)
    assert "default_scope='mmocr'" in message
    assert "model.type='DBNet'" in message
    assert "['mmaction', 'mmdet', 'mmpretrain', 'mmseg']" in message


def test_config_library_of_a_detector():
    assert config_library(Config(dict(default_scope='mmdet'))) == 'mmdet'
    assert config_library(Config(dict(model=dict(type='MaskRCNN')))) == \
        'mmdet'


def test_atomic_output_renames_on_success_only(tmp_path):
    path = tmp_path / 'out' / 'overlay.png'
    with atomic_output(str(path)) as tmp:
        assert tmp.endswith('.png') and os.path.dirname(tmp) == str(
            path.parent)
        assert not path.exists()
        with open(tmp, 'w') as f:
            f.write('done')
    assert path.read_text() == 'done'
    with pytest.raises(RuntimeError):
        with atomic_output(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise RuntimeError('interrupted')
    assert path.read_text() == 'done'
    assert sorted(p.name for p in path.parent.iterdir()) == ['overlay.png']


def test_outputs_of_a_folder(tmp_path):
    for name in ('b.jpg', 'a.png', 'notes.txt'):
        (tmp_path / name).write_text('')
    images = list_inputs(str(tmp_path), ('.jpg', '.png'))
    assert images == [str(tmp_path / 'a.png'), str(tmp_path / 'b.jpg')]
    outputs = segmentation_outputs(str(tmp_path), images, 'vis')
    assert outputs == [('vis/a.png', 'vis/a_label.png'),
                       ('vis/b.png', 'vis/b_label.png')]
    (tmp_path / 'a.jpg').write_text('')
    with pytest.raises(ValueError) as error:
        segmentation_outputs(
            str(tmp_path), list_inputs(str(tmp_path), ('.jpg', '.png')), 'vis')
    assert 'would both be written to' in str(error.value)
    with pytest.raises(ValueError) as error:
        video_outputs(str(tmp_path), images, str(tmp_path / 'a.png'))
    assert 'is a file, but the input' in str(error.value)


@pytest.mark.parametrize('plan, out', [
    (segmentation_outputs, 'seg.png'),
    (video_outputs, 'drawn.mp4'),
])
def test_a_folder_is_not_written_to_a_file_name(tmp_path, plan, out):
    """A folder's outputs go to a folder: a name with a file's suffix is
    refused (a folder of that name would be made), unless it is a folder
    already."""
    (tmp_path / 'a.png').write_text('')
    inputs = [str(tmp_path / 'a.png')]
    with pytest.raises(ValueError) as error:
        plan(str(tmp_path), inputs, str(tmp_path / 'out' / out))
    assert f"{out}' is a file name, but the input" in str(error.value)
    assert 'give a folder' in str(error.value)
    assert not (tmp_path / 'out').exists()
    folder = tmp_path / 'out' / out
    folder.mkdir(parents=True)
    assert plan(str(tmp_path), inputs, str(folder))


def test_list_inputs_errors(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        list_inputs(str(tmp_path / 'missing'), ('.png', ))
    assert 'is neither a file nor a folder' in str(error.value)
    with pytest.raises(ValueError) as error:
        list_inputs(str(tmp_path), ('.png', ))
    assert "has no file ending in ['.png']" in str(error.value)


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


def test_top_k():
    best = top_k('x', [0.1, 0.5, 0.2, 0.2], 3, ['a', 'b', 'c', 'd'])
    assert best.labels == [1, 2, 3] and best.names == ['b', 'c', 'd']
    assert best.scores == [0.5, 0.2, 0.2]
    assert top_k('x', [0.3, 0.7], 5).labels == [1, 0]
    with pytest.raises(ValueError, match='2 class names for a model with 3'):
        top_k('x', [0.1, 0.2, 0.7], 1, ['a', 'b'])
