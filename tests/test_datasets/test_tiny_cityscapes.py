# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.datasets.tiny_cityscapes: drawn street scenes in Cityscapes'
layout (the converter's tree itself: tests/test_tools)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from glore_mm.datasets import cityscapes, tiny_cityscapes
from tests.dataset_files import all_files, read_lines


def test_tiny_tree_images_show_their_labels(tmp_path):
    """Every region has its class colour: the scenes are learnable."""
    tiny_cityscapes.make_tiny_cityscapes(
        str(tmp_path / 'tiny'), num_train=6, num_val=1, size=(48, 96))
    colours = {
        label.id: np.array(label.color[::-1])
        for label in cityscapes.CITYSCAPES_LABELS
    }
    seen = set()
    root = str(tmp_path / 'tiny')
    for name in read_lines(osp.join(root, 'train.txt')):
        image = cv2.imread(
            osp.join(root, 'leftImg8bit', 'train',
                     name + '_leftImg8bit.png')).astype(np.float64)
        label_ids = cv2.imread(
            osp.join(root, 'gtFine', 'train', name + '_gtFine_labelIds.png'),
            cv2.IMREAD_UNCHANGED)
        assert image.shape == (48, 96, 3)
        for label_id in np.unique(label_ids):
            mean = image[label_ids == label_id].mean(axis=0)
            # Jitter, brightness and noise stay well below class gaps.
            assert np.abs(mean - colours[label_id]).max() < 60, label_id
        seen |= set(np.unique(label_ids).tolist())
        # Sky on top, road (or ego vehicle) at the bottom, a car somewhere.
        assert label_ids[0, 48] == 23
        assert label_ids[-1, 48] in (7, 1)
        assert 26 in label_ids
    assert {1, 7, 8, 11, 17, 21, 23, 24, 26} <= seen


def test_tiny_tree_is_deterministic(tmp_path):
    trees = {}
    for key, seed in (('a', 3), ('b', 3), ('c', 4)):
        root = str(tmp_path / key)
        tiny_cityscapes.make_tiny_cityscapes(
            root, num_train=2, num_val=1, seed=seed)
        trees[key] = {
            path: cv2.imread(osp.join(root, path), cv2.IMREAD_UNCHANGED)
            for path in all_files(root) if path.endswith('.png')
        }
    assert trees['a'].keys() == trees['b'].keys() == trees['c'].keys()
    for path in trees['a']:
        np.testing.assert_array_equal(trees['a'][path], trees['b'][path])
    assert any(not np.array_equal(trees['a'][path], trees['c'][path])
               for path in trees['a'])


def test_tiny_tree_refuses_non_empty_out_dir(tmp_path):
    out_dir = tmp_path / 'tiny'
    out_dir.mkdir()
    (out_dir / 'keep.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not empty.*overwrite'):
        tiny_cityscapes.make_tiny_cityscapes(str(out_dir))
    assert all_files(str(out_dir)) == ['keep.txt']
    tiny_cityscapes.make_tiny_cityscapes(
        str(out_dir), num_train=1, num_val=1, overwrite=True)
    files = all_files(str(out_dir))
    assert 'keep.txt' not in files and 'train.txt' in files
    assert os.listdir(tmp_path) == ['tiny']  # no temporary folder left
    with pytest.raises(ValueError, match='num_train'):
        tiny_cityscapes.make_tiny_cityscapes(str(tmp_path / 'x'), num_train=0)
    with pytest.raises(ValueError, match='size'):
        tiny_cityscapes.make_tiny_cityscapes(
            str(tmp_path / 'x'), size=(8, 128))
    assert not osp.exists(tmp_path / 'x')
