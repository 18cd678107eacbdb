# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.apis.inferencers: which library a config belongs to."""
import pytest
from mmengine.config import Config

from glore_mm.apis import config_library


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
