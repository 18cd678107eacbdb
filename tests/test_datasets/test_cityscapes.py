# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.datasets.cityscapes: the label table and the converter."""
import os.path as osp

import cv2
import numpy as np
import pytest

from glore_mm.datasets import cityscapes
from tests.dataset_files import (TRAIN_IDS, all_files, expected_train_ids,
                                 read_lines, write_label_ids,
                                 write_raw_cityscapes)


@pytest.mark.parametrize('label_id,train_id', [(7, 0), (26, 13), (0, 255),
                                               (33, 18), (8, 1), (23, 10),
                                               (24, 11), (31, 16), (1, 255),
                                               (9, 255), (29, 255)])
def test_label_table_spot_checks(label_id, train_id):
    assert cityscapes.LABEL_ID_TO_TRAIN_ID[label_id] == train_id
    assert cityscapes.label_ids_to_train_ids(
        np.array([label_id], dtype=np.uint8))[0] == train_id


def test_label_table_matches_labels_py():
    table = cityscapes.LABEL_ID_TO_TRAIN_ID
    assert table.dtype == np.uint8 and table.shape == (256, )
    expected = np.full(256, 255, dtype=np.uint8)
    expected[list(TRAIN_IDS)] = list(TRAIN_IDS.values())
    np.testing.assert_array_equal(table, expected)
    assert [label.id
            for label in cityscapes.CITYSCAPES_LABELS] == list(range(34))
    # The 19 train ids in order name the classes of mmseg's dataset.
    from mmseg.datasets import CityscapesDataset
    names = {
        label.train_id: label.name
        for label in cityscapes.CITYSCAPES_LABELS if label.train_id != 255
    }
    assert tuple(names[i] for i in range(19)) == \
        CityscapesDataset.METAINFO['classes']


def test_label_ids_to_train_ids_out_of_table_values():
    label_ids = np.array([[-1, 7, 34], [255, 1000, 33]], dtype=np.int32)
    train_ids = cityscapes.label_ids_to_train_ids(label_ids)
    assert train_ids.dtype == np.uint8
    np.testing.assert_array_equal(train_ids, [[255, 0, 255], [255, 255, 18]])
    with pytest.raises(TypeError, match='integer'):
        cityscapes.label_ids_to_train_ids(np.zeros((2, 2), np.float32))


@pytest.fixture
def raw_cityscapes(tmp_path):
    return write_raw_cityscapes(str(tmp_path / 'cityscapes'))


def test_convert_cityscapes_in_place(raw_cityscapes):
    root, names = raw_cityscapes
    splits = cityscapes.convert_cityscapes(root)
    assert splits == names
    for split, split_names in names.items():
        assert read_lines(osp.join(root, f'{split}.txt')) == split_names
        for name in split_names:
            gt = osp.join(root, 'gtFine', split, name)
            label_ids = cv2.imread(gt + '_gtFine_labelIds.png',
                                   cv2.IMREAD_UNCHANGED)
            train_ids = cv2.imread(gt + '_gtFine_labelTrainIds.png',
                                   cv2.IMREAD_UNCHANGED)
            assert train_ids.dtype == np.uint8
            assert train_ids.shape == label_ids.shape == (9, 13)
            np.testing.assert_array_equal(train_ids,
                                          expected_train_ids(label_ids))
    # Only the outputs were added: no temporary file is left behind.
    assert not [
        f for f in all_files(root) if '.tmp' in f or f.endswith('.partial')
    ]


def test_convert_cityscapes_out_dir_two_processes(raw_cityscapes, tmp_path):
    root, names = raw_cityscapes
    before = all_files(root)
    out_dir = str(tmp_path / 'out')
    cityscapes.convert_cityscapes(root, out_dir=out_dir, nproc=2)
    assert all_files(root) == before  # the input tree is left alone
    expected = sorted([f'{split}.txt' for split in names] + [
        osp.join('gtFine', split, name + '_gtFine_labelTrainIds.png')
        for split, split_names in names.items() for name in split_names
    ])
    assert all_files(out_dir) == expected
    name = names['val'][0]
    label_ids = cv2.imread(
        osp.join(root, 'gtFine', 'val', name + '_gtFine_labelIds.png'),
        cv2.IMREAD_UNCHANGED)
    train_ids = cv2.imread(
        osp.join(out_dir, 'gtFine', 'val', name + '_gtFine_labelTrainIds.png'),
        cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(train_ids, expected_train_ids(label_ids))


def test_convert_cityscapes_errors(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        cityscapes.convert_cityscapes(missing)
    root = tmp_path / 'root'
    root.mkdir()
    with pytest.raises(FileNotFoundError, match='gtFine.*train,val,test'):
        cityscapes.convert_cityscapes(str(root))
    (root / 'gtFine' / 'train').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='no \\*_gtFine_labelIds'):
        cityscapes.convert_cityscapes(str(root))
    with pytest.raises(ValueError, match='nproc'):
        cityscapes.convert_cityscapes(str(root), nproc=0)
    # A colour PNG is not a labelIds map: the error names the file.
    path = write_label_ids(
        str(root), 'train', 'ulm', 0, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match='ulm_000000_000019.*single-channel'):
        cityscapes.convert_cityscapes(str(root))
    assert path == 'ulm/ulm_000000_000019'
