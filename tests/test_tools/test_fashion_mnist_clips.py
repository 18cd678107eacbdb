# Copyright (c) glore_mm contributors. All rights reserved.
"""The Fashion-MNIST clips set: its generator, its command line and
mmaction's ``RawframeDataset`` reading it through the experiment's
config."""
import os
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from glore_mm.datasets import fashion_mnist
from glore_mm.datasets import fashion_mnist_clips as fmc
from glore_mm.datasets.fashion_mnist_items import Items
from tests.fashion_mnist_files import (idx_bytes, split_brightness_arrays,
                                       tool_args, tree_files,
                                       write_fashion_src)
from tests.tool_runner import REPO, TOOLS, run_tool

TOOL = TOOLS / 'dataset_converters' / 'fashion_mnist_clips.py'
CONFIG = (
    REPO / 'configs' / 'mmaction' /
    'i3d_r18-w8_1xb16-8x1x1-3e_fashion-mnist-clips.py')
SMALL = dict(
    num_train=10,
    num_test=6,
    num_frames=5,
    frame=(30, 36),
    distractors=0.5,
    noise=20,
    seed=3)


def _source_arrays() -> dict:
    """Items whose train and test splits differ in brightness."""
    return split_brightness_arrays({'train': 40, 't10k': 30}, seed=2)


@pytest.fixture(scope='module')
def src(tmp_path_factory) -> Path:
    """The gzipped IDX files of :func:`_source_arrays`."""
    return write_fashion_src(tmp_path_factory.mktemp('src'), _source_arrays())


@pytest.fixture(scope='module')
def made(src, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('made') / 'fashion_mnist_clips'
    stdout = run_tool(
        [sys.executable, TOOL, out, '--src', src, *tool_args(SMALL)],
        cwd=out.parent).stdout
    assert (f'Fashion-MNIST clips written to {out}: 10 train and 6 test '
            'clips of 5 frames') in stdout
    return out


def _frames(made: Path, split: str, folder: str) -> np.ndarray:
    return np.stack([
        cv2.imread(
            str(made / 'rawframes' / split / folder /
                fmc.FILENAME_TMPL.format(t + 1)), cv2.IMREAD_UNCHANGED)
        for t in range(SMALL['num_frames'])
    ])


def test_layout_lists_and_balance(made):
    assert sorted(os.listdir(made)) == ['meta', 'rawframes']
    info = fmc.read_info(str(made))
    assert info['counts'] == dict(train=10, test=6)
    assert info['classes'] == ['different', 'same']
    assert info['num_frames'] == 5 and info['frame'] == [30, 36]
    for split, count in info['counts'].items():
        rows = fmc.read_clips(str(made), split)
        folders = [f'{i:06d}' for i in range(count)]
        assert [r['folder'] for r in rows] == folders
        assert sorted(os.listdir(made / 'rawframes' / split)) == folders
        for folder in folders:
            assert sorted(os.listdir(made / 'rawframes' / split / folder)) == [
                f'img_0000{t}.png' for t in range(1, 6)
            ]
        lines = (made / fmc.ann_file(split)).read_text().splitlines()
        assert lines == [f'{r["folder"]} 5 {r["label"]}' for r in rows]
        assert sum(r['label'] for r in rows) == count // 2  # half and half
        for r in rows:
            assert r['label'] == int(r['class_first'] == r['class_last'])
            assert r['index_first'] != r['index_last']
            assert 0 <= r['distractors'] <= 3


@pytest.mark.parametrize('split, source', list(fmc.SOURCE_SPLITS.items()))
def test_first_and_last_items_and_distractors(made, src, split, source):
    """The first and the last frame show the recorded items of the right
    split and class at their corners over the noise; a middle frame shows
    a bright item exactly when it is counted as a distractor."""
    images, labels = fashion_mnist.read_split(str(src), source, False)
    for r in fmc.read_clips(str(made), split):
        frames = _frames(made, split, r['folder'])
        assert frames.shape == (5, 30, 36) and frames.dtype == np.uint8
        for side, t in (('first', 0), ('last', 4)):
            index = r[f'index_{side}']
            assert labels[index] == r[f'class_{side}']
            item = images[index]
            y, x = r[f'y_{side}'], r[f'x_{side}']
            window = frames[t, y:y + 28, x:x + 28]
            assert (window >= item).all()
            shown = item > SMALL['noise']
            np.testing.assert_array_equal(window[shown], item[shown])
            outside = np.ones((30, 36), bool)
            outside[y:y + 28, x:x + 28] = False
            assert frames[t][outside].max() <= SMALL['noise']
        # the sources' items are > 20 somewhere; the noise never is
        with_items = [frames[t].max() > SMALL['noise'] for t in (1, 2, 3)]
        assert sum(with_items) == r['distractors']
        # items of the test split are bright, of the train split dim
        top = frames.max()
        assert top >= 128 if source == 't10k' else top <= 127


def test_labels_ignore_everything_but_the_ends():
    """The distractors' classes are uniform over all ten whatever the
    label, and the last item's class is uniform over the other nine when
    the label is ``different``."""
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    items = Items(
        rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), labels,
        [np.flatnonzero(labels == c) for c in range(10)])
    draws = np.random.default_rng(1)
    offsets = []
    for i in range(600):
        _, record = fmc.draw_clip(items, i % 2 == 1, 3, (28, 28), 1.0, 10,
                                  draws)
        if not record['label']:
            offsets.append((record['class_last'] - record['class_first']) % 10)
    counts = np.bincount(offsets, minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 15


def test_deterministic_from_the_seed(made, src, tmp_path):
    again, other = tmp_path / 'again', tmp_path / 'other'
    fmc.make_fashion_mnist_clips(str(src), str(again), **SMALL)
    fmc.make_fashion_mnist_clips(str(src), str(other), **dict(SMALL, seed=4))
    assert tree_files(again) == tree_files(made)
    assert fmc.read_clips(str(other), 'train') != \
        fmc.read_clips(str(made), 'train')


def test_read_by_the_config_dataset(made):
    """The config's loaders build mmaction's RawframeDataset on the set:
    every frame of a clip, in order, as 3 equal channels, and the label."""
    from mmaction.registry import DATASETS
    from mmengine.registry import DefaultScope

    from glore_mm.apis import load_config
    cfg = load_config(str(CONFIG))
    for loader, split in ((cfg.train_dataloader, 'train'),
                          (cfg.test_dataloader, 'test')):
        pipeline = [
            dict(step, clip_len=5) if step['type'] == 'SampleFrames' else step
            for step in loader.dataset.pipeline if step['type'] != 'Flip'
        ]
        dataset_cfg = dict(
            loader.dataset, data_root=str(made), pipeline=pipeline)
        with DefaultScope.overwrite_default_scope('mmaction'):
            dataset = DATASETS.build(dataset_cfg)
        rows = fmc.read_clips(str(made), split)
        assert len(dataset) == len(rows)
        sample = dataset[2]
        inputs = sample['inputs'].numpy()  # [1, 3, T, H, W]
        assert inputs.shape == (1, 3, 5, 30, 36)
        frames = _frames(made, split, rows[2]['folder'])
        for channel in range(3):
            np.testing.assert_array_equal(inputs[0, channel], frames)
        assert sample['data_samples'].gt_label.item() == rows[2]['label']


BAD_ARGUMENTS = [
    (dict(num_train=1), r'num_train must be an integer >= 2 .* got 1'),
    (dict(num_frames=1), r'num_frames must be an integer >= 2 .* got 1'),
    (dict(frame=(30, 20)), r'frame must be \(height, width\), each an '
     r'integer >= 28 .* got \(30, 20\)'),
    (dict(distractors=1.5), r'distractors must be a probability in 0-1 .* '
     r'got 1\.5'),
    (dict(noise=256), r'noise must be an integer in 0-255 .* got 256'),
]


@pytest.mark.parametrize(
    'override, message', BAD_ARGUMENTS, ids=[str(b[0]) for b in BAD_ARGUMENTS])
def test_bad_arguments_are_named(src, tmp_path, override, message):
    out = tmp_path / 'out'
    with pytest.raises(ValueError, match=message):
        fmc.make_fashion_mnist_clips(
            str(src), str(out), **dict(SMALL, **override))
    assert not out.exists()


def test_too_few_items_of_a_class(tmp_path):
    arrays = _source_arrays()
    # a class with a single training image: no 'same' clip of two items
    labels = arrays['train-labels-idx1-ubyte'].copy()
    labels[labels == 5] = 6
    labels[np.flatnonzero(labels == 6)[0]] = 5
    few = write_fashion_src(
        tmp_path / 'few', arrays,
        **{'train-labels-idx1-ubyte': idx_bytes(labels, 2049)})
    with pytest.raises(
            ValueError,
            match=r'train-labels-idx1-ubyte: class 5 has 1 image\(s\); '
            r'clips need at least 2 images of every class'):
        fmc.make_fashion_mnist_clips(str(few), str(tmp_path / 'out'), **SMALL)
    assert not (tmp_path / 'out').exists()


def test_tool_refuses_bad_input(src, made, tmp_path):
    """The command line refuses through argparse's error (exit 2, usage, no
    traceback) and leaves the output as it was."""
    out = tmp_path / 'out'
    cases = [
        (src, out, r'distractors must be a probability', ('--distractors',
                                                          -0.1)),
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
        assert result.stderr.startswith('usage: fashion_mnist_clips.py')
        assert 'Traceback' not in result.stderr
        assert re.search(message, result.stderr), result.stderr
        if before is None:
            assert not target.exists()
        else:
            assert tree_files(target) == before
