# Copyright (c) glore_mm contributors. All rights reserved.
"""The Fashion-MNIST dense relations set: its generator, its command line
and mmseg reading it through the experiment's config and our dataset
class."""
import os
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from glore_mm.datasets import fashion_mnist_dense as fmd
from glore_mm.datasets.fashion_mnist_items import Items
from tests.fashion_mnist_files import (idx_bytes, split_brightness_arrays,
                                       tool_args, tree_files,
                                       write_fashion_src)
from tests.tool_runner import REPO, TOOLS, run_tool

TOOL = TOOLS / 'dataset_converters' / 'fashion_mnist_dense.py'
CONFIG = (
    REPO / 'configs' / 'mmseg' /
    'fcn_r18-d8-w16_1xb16-4k_fashion-mnist-dense-32x112.py')
SMALL = dict(
    num_train=8,
    num_test=4,
    canvas=(64, 160),
    min_distance=48.0,
    threshold=40,
    noise=20,
    seed=3)


def _source_arrays() -> dict:
    """Items whose train and test splits differ in brightness."""
    return split_brightness_arrays({'train': 40, 't10k': 30}, seed=1)


@pytest.fixture(scope='module')
def src(tmp_path_factory) -> Path:
    """The gzipped IDX files of :func:`_source_arrays`."""
    return write_fashion_src(tmp_path_factory.mktemp('src'), _source_arrays())


@pytest.fixture(scope='module')
def made(src, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('made') / 'fashion_mnist_dense'
    stdout = run_tool(
        [sys.executable, TOOL, out, '--src', src, *tool_args(SMALL)],
        cwd=out.parent).stdout
    assert (f'Fashion-MNIST dense relations written to {out}: 8 train and '
            '4 test canvases') in stdout
    return out


def _read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_layout_counts_and_balance(made):
    assert sorted(os.listdir(made)) == ['ann_dir', 'img_dir', 'meta']
    info = fmd.read_info(str(made))
    assert info['counts'] == dict(train=8, test=4)
    assert info['classes'] == list(fmd.CLASSES)
    assert info['canvas'] == [64, 160] and info['min_distance'] == 48
    # half of the canvases hold two items of one class, half two classes
    assert info['items'] == dict(
        train=dict(same=8, different=8), test=dict(same=4, different=4))
    for split, count in info['counts'].items():
        names = [f'{i:06d}.png' for i in range(count)]
        for kind in ('img_dir', 'ann_dir'):
            assert sorted(os.listdir(made / kind / split)) == names
        rows = fmd.read_items_table(str(made), split)
        assert [r['filename']
                for r in rows] == [n for n in names for _ in range(2)]
        assert [r['item'] for r in rows] == [0, 1] * count
        same = 0
        for name in names:
            canvas = [r for r in rows if r['filename'] == name]
            alike = canvas[0]['class'] == canvas[1]['class']
            for r in canvas:
                assert r['label'] == (fmd.SAME if alike else fmd.DIFFERENT)
            same += alike
        assert same == count // 2


@pytest.mark.parametrize('split, source', list(fmd.SOURCE_SPLITS.items()))
def test_items_labels_and_distances(made, src, split, source):
    """The canvas shows each recorded item of the right split at its
    corner; the label map is its label where the item is brighter than the
    threshold and background elsewhere; the distance is that of the two
    centres, at least the minimum."""
    from glore_mm.datasets import fashion_mnist
    images, labels = fashion_mnist.read_split(str(src), source, False)
    rows = fmd.read_items_table(str(made), split)
    for name in sorted({r['filename'] for r in rows}):
        canvas = _read(made / 'img_dir' / split / name)
        label_map = _read(made / 'ann_dir' / split / name)
        assert canvas.shape == label_map.shape == SMALL['canvas']
        expected = np.zeros(canvas.shape, np.uint8)
        covered = np.zeros(canvas.shape, bool)
        items = [r for r in rows if r['filename'] == name]
        for r in items:
            item = images[r['index']]
            assert labels[r['index']] == r['class']
            inside = item > SMALL['threshold']
            assert r['pixels'] == inside.sum()
            window = canvas[r['y']:r['y'] + 28, r['x']:r['x'] + 28]
            assert (window >= item).all()
            np.testing.assert_array_equal(window[inside], item[inside])
            bright = item[inside]
            assert (bright >= 128).all() if source == 't10k' else \
                (bright <= 127).all()
            expected[r['y']:r['y'] + 28, r['x']:r['x'] + 28][inside] = \
                r['label']
            covered[r['y']:r['y'] + 28, r['x']:r['x'] + 28] = True
        np.testing.assert_array_equal(label_map, expected)
        assert canvas[~covered].max() <= SMALL['noise']
        assert len({r['index'] for r in items}) == 2
        (y0, x0), (y1, x1) = [(r['y'], r['x']) for r in items]
        distance = np.hypot(y1 - y0, x1 - x0)
        assert distance >= SMALL['min_distance']
        for r in items:
            assert r['distance'] == pytest.approx(distance, abs=1e-3)


def test_every_class_is_same_and_different_alike():
    """Over many canvases, an item of any class is labelled same about as
    often as different: its own look and class say nothing of its
    label."""
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    items = Items(
        rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), labels,
        [np.flatnonzero(labels == c) for c in range(10)])
    canvas = fmd.DEFAULTS['canvas']
    corners = fmd.corner_positions(*canvas)
    draws = np.random.default_rng(1)
    records = []
    for i in range(4000):
        records += fmd.draw_canvas(items, i % 2 == 0, canvas, corners,
                                   fmd.DEFAULTS['min_distance'], 32, 24,
                                   draws)[2]
    for cls in range(10):
        mine = [r['label'] for r in records if r['class'] == cls]
        share = np.mean([label == fmd.SAME for label in mine])
        assert 0.4 < share < 0.6, (cls, share, len(mine))


def test_deterministic_from_the_seed(made, src, tmp_path):
    again, other = tmp_path / 'again', tmp_path / 'other'
    fmd.make_fashion_mnist_dense(str(src), str(again), **SMALL)
    fmd.make_fashion_mnist_dense(str(src), str(other), **dict(SMALL, seed=4))
    assert tree_files(again) == tree_files(made)
    assert fmd.read_items_table(str(other), 'train') != \
        fmd.read_items_table(str(made), 'train')


def test_read_by_the_config_dataset(made):
    """The config's loaders build FashionMNISTDenseDataset on the set and
    load the canvases and label maps as written."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    from glore_mm.apis import load_config
    from glore_mm.mmseg.datasets import FashionMNISTDenseDataset
    assert FashionMNISTDenseDataset.METAINFO['classes'] == fmd.CLASSES
    cfg = load_config(str(CONFIG))
    for loader, split in ((cfg.train_dataloader, 'train'),
                          (cfg.test_dataloader, 'test')):
        dataset_cfg = dict(loader.dataset, data_root=str(made))
        with DefaultScope.overwrite_default_scope('mmseg'):
            dataset = DATASETS.build(dataset_cfg)
        assert isinstance(dataset, FashionMNISTDenseDataset)
        assert len(dataset) == fmd.read_info(str(made))['counts'][split]
        assert dataset.metainfo['classes'] == fmd.CLASSES
        sample = dataset[1]
        assert tuple(sample['inputs'].shape) == (1, *SMALL['canvas'])
        name = '000001.png'
        assert sample['data_samples'].seg_map_path == str(made / 'ann_dir' /
                                                          split / name)
        gt = sample['data_samples'].gt_sem_seg.data.numpy()[0]
        image = sample['inputs'].numpy()[0]
        expected = (_read(made / 'ann_dir' / split / name),
                    _read(made / 'img_dir' / split / name))
        if split == 'train' and not np.array_equal(gt, expected[0]):
            expected = tuple(a[:, ::-1] for a in expected)  # RandomFlip
        np.testing.assert_array_equal(gt, expected[0])
        np.testing.assert_array_equal(image, expected[1])


BAD_ARGUMENTS = [
    (dict(num_train=0), r'num_train must be an integer >= 1 .* got 0'),
    (dict(num_test=2.5), r'num_test must be an integer >= 1 .* got 2\.5'),
    (dict(canvas=(20, 160)), r'canvas must be \(height, width\), each an '
     r'integer >= 28 .* got \(20, 160\)'),
    (dict(min_distance=30), r'min_distance must be between 40 \(items never '
     r'overlap\) and 136\.8, .* 64x160 canvas, but got 30'),
    (dict(min_distance=140), r'min_distance must be between 40 .* but got '
     r'140'),
    (dict(threshold=255), r'threshold must be an integer in 0-254 .* 255'),
    (dict(noise=41), r'noise must be an integer in 0-40 .* threshold=40\), '
     r'but got 41'),
    # only two corner pairs of the canvas are that far apart
    (dict(min_distance=136.8),
     r'min_distance=136\.8 leaves no room for 2 items on a 64x160 canvas'),
]


@pytest.mark.parametrize(
    'override, message', BAD_ARGUMENTS, ids=[str(b[0]) for b in BAD_ARGUMENTS])
def test_bad_arguments_are_named(src, tmp_path, override, message):
    out = tmp_path / 'out'
    with pytest.raises(ValueError, match=message):
        fmd.make_fashion_mnist_dense(
            str(src), str(out), **dict(SMALL, **override))
    assert not out.exists()


def test_too_few_items_of_a_class(tmp_path):
    arrays = _source_arrays()
    # a class with a single test image: no canvas of two items of it
    labels = arrays['t10k-labels-idx1-ubyte'].copy()
    labels[labels == 3] = 4
    labels[np.flatnonzero(labels == 4)[0]] = 3
    few = write_fashion_src(
        tmp_path / 'few', arrays,
        **{'t10k-labels-idx1-ubyte': idx_bytes(labels, 2049)})
    with pytest.raises(
            ValueError,
            match=r't10k-labels-idx1-ubyte: class 3 has 1 image\(s\); '
            r'canvases of two items of one class need at least 2 images of '
            r'every class'):
        fmd.make_fashion_mnist_dense(str(few), str(tmp_path / 'out'), **SMALL)
    assert not (tmp_path / 'out').exists()


def test_tool_refuses_bad_input(src, made, tmp_path):
    """The command line refuses through argparse's error (exit 2, usage, no
    traceback) and leaves the output as it was."""
    out = tmp_path / 'out'
    cases = [
        (src, out, r'noise must be an integer in 0-40', ('--noise', 41)),
        (tmp_path / 'nowhere', out, r'src_dir .*nowhere lacks '
         r"\['train-images-idx3-ubyte.gz'.*dataset-fashion-mnist", ()),
        (src, made, r'out_dir .* is not empty; pass overwrite=True '
         r'\(--overwrite\)', ()),
    ]
    for source, target, message, extra in cases:
        before = tree_files(target) if target.exists() else None
        result = run_tool([
            sys.executable, TOOL, target, '--src', source, *tool_args(SMALL),
            *extra
        ],
                          cwd=tmp_path,
                          ok=False)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith('usage: fashion_mnist_dense.py')
        assert 'Traceback' not in result.stderr
        assert re.search(message, result.stderr), result.stderr
        if before is None:
            assert not target.exists()
        else:
            assert tree_files(target) == before
