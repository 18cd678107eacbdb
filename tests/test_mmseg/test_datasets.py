# Copyright (c) glore_mm contributors. All rights reserved.
"""``BrainMRIDataset`` on the real brain MRI slices."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS

from glore_mm.datasets import build_brain_mri
from glore_mm.mmseg.datasets import BrainMRIDataset

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]


@pytest.fixture(scope='module')
def brain_root(tmp_path_factory):
    """The slice set at 64x64 (nilearn wheel from the glore_mm cache)."""
    root = str(tmp_path_factory.mktemp('brain') / 'brain_mri')
    build_brain_mri(root, size=64)
    return root


def _build(root, split, **kwargs):
    """Build the dataset of one split with the minimal loading pipeline."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(
                type='BrainMRIDataset',
                data_root=root,
                data_prefix=dict(
                    img_path=f'img_dir/{split}',
                    seg_map_path=f'ann_dir/{split}'),
                pipeline=PIPELINE,
                **kwargs))


def test_brain_mri_dataset_registered():
    assert DATASETS.get('BrainMRIDataset') is BrainMRIDataset
    assert BrainMRIDataset.METAINFO['classes'] == ('background', 'grey matter',
                                                   'white matter')
    palette = BrainMRIDataset.METAINFO['palette']
    assert len(palette) == 3 and len({tuple(c) for c in palette}) == 3


@pytest.mark.parametrize('split', ['train', 'val'])
def test_brain_mri_dataset_loads(brain_root, split):
    dataset = _build(brain_root, split)
    assert isinstance(dataset, BrainMRIDataset)
    files = sorted(os.listdir(osp.join(brain_root, 'img_dir', split)))
    assert len(dataset) == len(files) > 20
    assert dataset.metainfo['classes'] == BrainMRIDataset.METAINFO['classes']
    info = dataset.get_data_info(0)
    assert info['reduce_zero_label'] is False
    assert info['seg_map_path'] == osp.join(brain_root, 'ann_dir', split,
                                            files[0])
    seen = set()
    for index in range(0, len(dataset), 4):
        sample = dataset[index]
        assert tuple(sample['inputs'].shape) == (3, 64, 64)
        gt = sample['data_samples'].gt_sem_seg.data.numpy()[0]
        # Label 0 stays 0 (no reduce_zero_label) and nothing is ignored.
        np.testing.assert_array_equal(
            gt,
            cv2.imread(sample['data_samples'].seg_map_path,
                       cv2.IMREAD_UNCHANGED))
        values = set(np.unique(gt).tolist())
        assert values <= {0, 1, 2}
        seen |= values
    assert seen == {0, 1, 2}
