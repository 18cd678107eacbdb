# Copyright (c) glore_mm contributors. All rights reserved.
"""The Fashion-MNIST detection set: its generator, its command line and
mmdet's ``CocoDataset`` reading it unchanged."""
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from glore_mm.datasets import fashion_mnist
from glore_mm.datasets import fashion_mnist_detection as fmd
from tests.fashion_mnist_files import (fashion_arrays, split_brightness_arrays,
                                       tool_args, write_fashion_src)
from tests.tool_runner import TOOLS, run_tool

TOOL = TOOLS / 'dataset_converters' / 'fashion_mnist_detection.py'
SMALL = dict(
    num_train=6,
    num_val=4,
    canvas=(48, 64),
    items=(2, 3),
    item_size=(12, 24),
    threshold=40,
    noise=20)


@pytest.fixture(scope='module')
def src(tmp_path_factory) -> Path:
    """Gzipped IDX files whose train and test items differ in brightness:
    train items are dim (<= 127), test items bright (>= 128)."""
    arrays = split_brightness_arrays({'train': 30, 't10k': 20}, seed=3)
    return write_fashion_src(tmp_path_factory.mktemp('src'), arrays)


@pytest.fixture(scope='module')
def made(src, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('made') / 'fmd'
    stdout = run_tool(
        [sys.executable, TOOL, out, '--src', src, *tool_args(SMALL)],
        cwd=out.parent).stdout
    assert f'written to {out}: 6 train canvases' in stdout
    return out


def _coco(out: Path, split: str) -> dict:
    return json.loads((out / fmd.ann_file(split)).read_text())


def test_layout_and_categories(made):
    from mmpretrain.datasets import FashionMNIST
    assert sorted(os.listdir(made)) == ['annotations', 'meta', 'train', 'val']
    assert fmd.CLASSES == FashionMNIST.METAINFO['classes']
    info = fmd.read_info(str(made))
    assert info['counts'] == dict(train=6, val=4)
    for split, count in info['counts'].items():
        coco = _coco(made, split)
        assert [c['name'] for c in coco['categories']] == list(fmd.CLASSES)
        assert [c['id'] for c in coco['categories']] == list(range(1, 11))
        assert [i['file_name'] for i in coco['images']] == \
            [f'{i:06d}.png' for i in range(count)]
        assert sorted(os.listdir(made / split)) == \
            [i['file_name'] for i in coco['images']]
        assert len(coco['annotations']) == info['instances'][split]
        per_image = np.bincount([a['image_id'] for a in coco['annotations']],
                                minlength=count + 1)[1:]
        assert per_image.min() >= 1 and per_image.max() <= 3


@pytest.mark.parametrize('split, source', list(fmd.SOURCE_SPLITS.items()))
def test_instances_are_the_items_of_their_split(made, src, split, source):
    """Every mask is its item's pixels above the threshold where the item
    lies, the canvas shows the item there, the box is the mask's, the
    category the item's class: train items come from the train split
    (dim), val items from the test split (bright)."""
    images, labels = fashion_mnist.read_split(str(src), source, False)
    coco = _coco(made, split)
    names = {i['id']: i['file_name'] for i in coco['images']}
    for ann in coco['annotations']:
        canvas = cv2.imread(
            str(made / split / names[ann['image_id']]), cv2.IMREAD_UNCHANGED)
        assert canvas.shape == SMALL['canvas']
        x, y, side, _ = ann['item_box']
        item = cv2.resize(
            images[ann['source_index']], (side, side),
            interpolation=cv2.INTER_LINEAR)
        expected = np.zeros(canvas.shape, np.uint8)
        expected[y:y + side, x:x + side] = item > SMALL['threshold']
        mask = fmd.decode_rle(ann['segmentation'])
        assert np.array_equal(mask, expected)
        assert ann['area'] == mask.sum() > 0
        assert ann['bbox'] == fmd.tight_box(mask)
        window = canvas[y:y + side, x:x + side]
        assert np.array_equal(window[item > SMALL['threshold']],
                              item[item > SMALL['threshold']])
        assert (window >= item).all()
        assert ann['category_id'] == labels[ann['source_index']] + 1
        assert ann['iscrowd'] == 0
        bright = item[item > SMALL['threshold']]
        assert (bright >= 128).all() if source == 't10k' else \
            (bright <= 127).all()
    # the background: noise up to its bound, nothing of an item
    canvas = cv2.imread(str(made / split / '000000.png'), cv2.IMREAD_UNCHANGED)
    anns = [a for a in coco['annotations'] if a['image_id'] == 1]
    covered = np.zeros(canvas.shape, bool)
    for ann in anns:
        x, y, side, _ = ann['item_box']
        covered[y:y + side, x:x + side] = True
    assert canvas[~covered].max() <= SMALL['noise']
    # the items of a canvas do not overlap
    boxes = [a['item_box'] for a in anns]
    for i, (xa, ya, sa, _) in enumerate(boxes):
        for xb, yb, sb, _ in boxes[i + 1:]:
            assert (xa + sa <= xb or xb + sb <= xa or ya + sa <= yb
                    or yb + sb <= ya)


def test_rle_round_trip_and_pycocotools():
    from pycocotools import mask as mask_utils
    rng = np.random.default_rng(0)
    masks = [rng.random((7, 5)) > 0.5 for _ in range(4)]
    masks[0][0, 0] = True  # the first run of 0s is empty
    masks[1][0, 0] = False
    masks += [np.zeros((3, 4), bool), np.ones((3, 4), bool)]
    for mask in masks:
        rle = fmd.encode_rle(mask)
        assert sum(rle['counts']) == mask.size
        assert np.array_equal(fmd.decode_rle(rle), mask)
        height, width = mask.shape
        compressed = mask_utils.frPyObjects(rle, height, width)
        assert np.array_equal(mask_utils.decode(compressed), mask)
    assert fmd.encode_rle(masks[0])['counts'][0] == 0


def test_deterministic_from_the_seed(made, src, tmp_path):
    again, other = tmp_path / 'again', tmp_path / 'other'
    fmd.make_fashion_mnist_detection(str(src), str(again), **SMALL)
    fmd.make_fashion_mnist_detection(str(src), str(other), **SMALL, seed=1)
    for split in fmd.SOURCE_SPLITS:
        assert _coco(again, split) == _coco(made, split)
        for name in os.listdir(made / split):
            assert (again / split / name).read_bytes() == \
                (made / split / name).read_bytes()
        assert _coco(other, split)['annotations'] != \
            _coco(made, split)['annotations']


def test_read_by_mmdet_coco_dataset(made):
    """mmdet's CocoDataset with the Mask R-CNN loading steps, unchanged."""
    from mmdet.datasets import CocoDataset
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    coco = _coco(made, 'train')
    dataset = CocoDataset(
        data_root=str(made),
        ann_file=fmd.ann_file('train'),
        data_prefix=dict(img='train/'),
        metainfo=dict(classes=fmd.CLASSES),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(type='PackDetInputs')
        ])
    assert len(dataset) == len(coco['images'])
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, *SMALL['canvas'])
    gt = sample['data_samples'].gt_instances
    anns = [a for a in coco['annotations'] if a['image_id'] == 1]
    assert gt.labels.tolist() == [a['category_id'] - 1 for a in anns]
    assert gt.masks.masks.sum(axis=(1, 2)).tolist() == \
        [a['area'] for a in anns]
    boxes = [[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)]
    assert gt.bboxes.tensor.tolist() == boxes


BAD_ARGUMENTS = [
    (dict(num_train=0), ['num_train', '>= 1', '0']),
    (dict(num_val=2.5), ['num_val', '2.5']),
    (dict(canvas=(48, 4)), ['canvas', '(48, 4)', '>= 8']),
    (dict(items=(3, 1)), ['items', '(3, 1)', 'min <= max']),
    (dict(items=(0, 2)), ['items', '1 <= min']),
    (dict(item_size=(12, 50)), ['item_size', '(12, 50)', '<= 48']),
    (dict(item_size=(4, 20)), ['item_size', '8 <= min']),
    (dict(threshold=255), ['threshold', '0-254', '255']),
    (dict(noise=41), ['noise', '0-40', 'threshold=40', '41']),
]


@pytest.mark.parametrize(
    'override, parts', BAD_ARGUMENTS, ids=[str(b[0]) for b in BAD_ARGUMENTS])
def test_bad_arguments_are_named(src, tmp_path, override, parts):
    out = tmp_path / 'out'
    with pytest.raises(ValueError) as info:
        fmd.make_fashion_mnist_detection(
            str(src), str(out), **dict(SMALL, **override))
    for part in parts:
        assert part in str(info.value), (part, str(info.value))
    assert not out.exists()


def test_tool_refuses_with_exit_2(tmp_path):
    result = run_tool(
        [sys.executable, TOOL, tmp_path / 'out', '--items', 3, 1],
        cwd=tmp_path,
        ok=False)
    assert result.returncode == 2, result.stderr
    assert 'usage:' in result.stderr
    assert 'items must be (min, max)' in result.stderr
    assert '[3, 1]' in result.stderr
    assert not (tmp_path / 'out').exists()


def test_existing_set_is_kept_without_overwrite(made, src):
    before = fmd.read_info(str(made))
    with pytest.raises(FileExistsError, match='overwrite'):
        fmd.make_fashion_mnist_detection(str(src), str(made), **SMALL)
    with pytest.raises(FileNotFoundError, match='lacks'):
        fmd.make_fashion_mnist_detection(
            str(made / 'nothing'), str(made), overwrite=True, **SMALL)
    assert fmd.read_info(str(made)) == before


def test_broken_source_leaves_nothing_behind(tmp_path):
    arrays = fashion_arrays({'train': 10, 't10k': 10})
    src = write_fashion_src(tmp_path / 'src', arrays,
                            **{'t10k-labels-idx1-ubyte': b'broken'})
    out = tmp_path / 'out' / 'fmd'
    with pytest.raises(ValueError, match='t10k-labels-idx1-ubyte'):
        fmd.make_fashion_mnist_detection(str(src), str(out), **SMALL)
    assert os.listdir(out.parent) == []


@pytest.mark.skipif(
    bool(fashion_mnist.missing_sources()),
    reason=f'needs the Debian package {fashion_mnist.DEBIAN_PACKAGE}')
def test_debian_items(tmp_path):
    """The real files, checked by SHA-256: real items, their real classes."""
    out = tmp_path / 'fmd'
    info = fmd.make_fashion_mnist_detection(
        out_dir=str(out), **dict(SMALL, num_train=3, num_val=2))
    assert info['source_dir'] == fashion_mnist.DEBIAN_DIR
    _, labels = fashion_mnist.read_split(fashion_mnist.DEBIAN_DIR, 't10k',
                                         True)
    for ann in _coco(out, 'val')['annotations']:
        assert ann['category_id'] == labels[ann['source_index']] + 1
