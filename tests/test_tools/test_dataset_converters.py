# Copyright (c) glore_mm contributors. All rights reserved.
"""``tools/dataset_converters`` run as a user runs them.

The Cityscapes converter runs on trees written here; the tiny tree of the
session (``make_tiny_cityscapes.py``) is loaded by mmseg's own
``CityscapesDataset``; the brain MRI converter runs on the real MNI template
from the nilearn wheel (downloaded once with pip into the glore_mm cache,
then reused); the Fashion-MNIST converter runs on small gzipped IDX files
written here, read back by mmpretrain's ``FashionMNIST`` as the config
builds it; the Fashion-MNIST pairs generator runs on such files too, its set
read back by mmpretrain's ``CustomDataset`` as the pairs config builds it.
The package functions behind them are tested in tests/test_datasets.
"""
import os
import os.path as osp
import re
import sys

import cv2
import numpy as np
import pytest

from glore_mm.datasets import fashion_mnist, fashion_mnist_pairs
from tests.dataset_files import (FASHION_COUNTS, all_files, expected_train_ids,
                                 read_idx, read_lines, write_raw_cityscapes)
from tests.fashion_mnist_files import fashion_arrays as make_fashion_arrays
from tests.fashion_mnist_files import idx_bytes, write_fashion_src
from tests.tiny_runs import IMAGE_SIZE, NUM_TRAIN, NUM_VAL
from tests.tool_runner import REPO, TOOLS, run_tool

CONVERTERS = TOOLS / 'dataset_converters'
CITYSCAPES_VALUES = set(range(19)) | {255}


def _run_tool(script, *args):
    """Run a converter script in a fresh interpreter; return its stdout."""
    return run_tool([sys.executable, CONVERTERS / script, *args],
                    cwd=REPO).stdout


def _refused(script, *args, cwd=REPO):
    """Run a converter on bad input: it must refuse it as argparse does
    (usage, ``error: <message>``, exit status 2, no traceback); return its
    stderr."""
    result = run_tool([sys.executable, CONVERTERS / script, *args],
                      cwd,
                      ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f'usage: {script}'), result.stderr
    assert f'{script}: error: ' in result.stderr
    assert 'Traceback' not in result.stderr
    return result.stderr


# --------------------------------------------------------------------------
# Cityscapes converter
# --------------------------------------------------------------------------


@pytest.fixture
def raw_cityscapes(tmp_path):
    return write_raw_cityscapes(str(tmp_path / 'cityscapes'))


def test_convert_cityscapes_command_line(raw_cityscapes):
    root, names = raw_cityscapes
    stdout = _run_tool('cityscapes.py', root, '--nproc', 2)
    assert 'train: 3 images' in stdout and 'test: 1 images' in stdout
    assert read_lines(osp.join(root, 'train.txt')) == names['train']
    val = names['val'][0]
    gt = osp.join(root, 'gtFine', 'val', val)
    np.testing.assert_array_equal(
        cv2.imread(gt + '_gtFine_labelTrainIds.png', cv2.IMREAD_UNCHANGED),
        expected_train_ids(
            cv2.imread(gt + '_gtFine_labelIds.png', cv2.IMREAD_UNCHANGED)))


def test_convert_cityscapes_refuses_a_missing_folder(tmp_path):
    missing = str(tmp_path / 'nowhere')
    stderr = _refused('cityscapes.py', missing)
    assert f'error: cityscapes_path {missing!r} is not a directory' in stderr


# --------------------------------------------------------------------------
# Tiny Cityscapes tree
# --------------------------------------------------------------------------


def test_tiny_tree_layout(cityscapes):
    """The session's tree: 4 train and 2 val scenes, built next to the
    output and renamed into place."""
    assert os.listdir(cityscapes.parent) == [cityscapes.name]
    stems = {
        'train': [
            'aachen/aachen_000000_000019', 'aachen/aachen_000001_000019',
            'bochum/bochum_000000_000019', 'bochum/bochum_000001_000019'
        ],
        'val': [
            'frankfurt/frankfurt_000000_000019',
            'frankfurt/frankfurt_000001_000019'
        ]
    }
    expected = ['train.txt', 'val.txt']
    for split, names in stems.items():
        assert read_lines(osp.join(cityscapes, f'{split}.txt')) == names
        for name in names:
            expected += [
                osp.join('leftImg8bit', split, name + '_leftImg8bit.png'),
                osp.join('gtFine', split, name + '_gtFine_labelIds.png'),
                osp.join('gtFine', split, name + '_gtFine_labelTrainIds.png')
            ]
    assert all_files(cityscapes) == sorted(expected)
    for split, names in stems.items():
        for name in names:
            image = cv2.imread(
                osp.join(cityscapes, 'leftImg8bit', split,
                         name + '_leftImg8bit.png'), cv2.IMREAD_UNCHANGED)
            gt = osp.join(cityscapes, 'gtFine', split, name)
            label_ids = cv2.imread(gt + '_gtFine_labelIds.png',
                                   cv2.IMREAD_UNCHANGED)
            train_ids = cv2.imread(gt + '_gtFine_labelTrainIds.png',
                                   cv2.IMREAD_UNCHANGED)
            assert image.shape == (*IMAGE_SIZE, 3) and image.dtype == np.uint8
            assert label_ids.shape == train_ids.shape == IMAGE_SIZE
            np.testing.assert_array_equal(train_ids,
                                          expected_train_ids(label_ids))


def _build_dataset(cfg):
    """Build an mmseg dataset with the minimal loading pipeline."""
    import mmseg.datasets  # noqa: F401 (registers the datasets)
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(dict(cfg, pipeline=pipeline))


@pytest.mark.parametrize('split,ann_file,num', [('train', '', NUM_TRAIN),
                                                ('val', 'val.txt', NUM_VAL)])
def test_tiny_tree_loads_in_cityscapes_dataset(cityscapes, split, ann_file,
                                               num):
    dataset = _build_dataset(
        dict(
            type='CityscapesDataset',
            data_root=str(cityscapes),
            ann_file=ann_file,
            data_prefix=dict(
                img_path=f'leftImg8bit/{split}',
                seg_map_path=f'gtFine/{split}')))
    assert type(dataset).__name__ == 'CityscapesDataset'
    assert len(dataset) == num
    seen = set()
    for index in range(num):
        sample = dataset[index]
        assert tuple(sample['inputs'].shape) == (3, *IMAGE_SIZE)
        gt = sample['data_samples'].gt_sem_seg.data.numpy()[0]
        seg_map_path = sample['data_samples'].seg_map_path
        assert seg_map_path.endswith('_gtFine_labelTrainIds.png')
        np.testing.assert_array_equal(
            gt, cv2.imread(seg_map_path, cv2.IMREAD_UNCHANGED))
        values = set(np.unique(gt).tolist())
        assert values <= CITYSCAPES_VALUES
        seen |= values
    assert {0, 10, 13} <= seen  # road, sky and car in every scene


# --------------------------------------------------------------------------
# Brain MRI slices from the MNI ICBM152 2009a template
# --------------------------------------------------------------------------


@pytest.fixture(scope='module')
def brain_set(tmp_path_factory):
    """The set at 64x64, built by the command line tool."""
    out_dir = str(tmp_path_factory.mktemp('brain') / 'brain_mri')
    stdout = _run_tool('brain_mri.py', out_dir, '--size', 64)
    return out_dir, stdout


def test_brain_mri_layout_and_split(brain_set):
    out_dir, stdout = brain_set
    names = {}
    for split in ('train', 'val'):
        images = sorted(os.listdir(osp.join(out_dir, 'img_dir', split)))
        assert images == sorted(
            os.listdir(osp.join(out_dir, 'ann_dir', split)))
        names[split] = images
        assert f'{split}: {len(images)} slices' in stdout
    assert sorted(os.listdir(out_dir)) == ['ann_dir', 'img_dir']
    every = sorted(names['train'] + names['val'])
    assert 130 <= len(every) <= 150  # the slices that hold brain
    assert names['val'] == every[4::5]  # every 5th slice held out
    z = [int(name[len('mni152_z'):-len('.png')]) for name in every]
    assert z == list(range(z[0], z[0] + len(z)))  # one contiguous block
    assert 'grey matter' in stdout and 'white matter' in stdout


def test_brain_mri_images_and_labels(brain_set):
    out_dir, _ = brain_set
    counts = np.zeros(3, np.int64)
    intensity = np.zeros(3)
    for split in ('train', 'val'):
        for name in os.listdir(osp.join(out_dir, 'img_dir', split)):
            image = cv2.imread(
                osp.join(out_dir, 'img_dir', split, name),
                cv2.IMREAD_UNCHANGED)
            label = cv2.imread(
                osp.join(out_dir, 'ann_dir', split, name),
                cv2.IMREAD_UNCHANGED)
            assert image.shape == label.shape == (64, 64)
            assert image.dtype == label.dtype == np.uint8
            assert set(np.unique(label).tolist()) <= {0, 1, 2}
            assert (label > 0).any()  # every kept slice holds brain
            counts += np.bincount(label.ravel(), minlength=3)
            intensity += np.bincount(
                label.ravel(), weights=image.ravel(), minlength=3)
    fractions = counts / counts.sum()
    assert 0.6 < fractions[0] < 0.9  # background
    assert 0.08 < fractions[1] < 0.25  # grey matter
    assert 0.04 < fractions[2] < 0.2  # white matter
    # In T1 white matter is brighter than grey matter, grey than the rest:
    # the labels lie on the image the right way round.
    mean = intensity / counts
    assert mean[2] > mean[1] + 20 > mean[0] + 40


@pytest.mark.parametrize('script, args, message', [
    ('make_tiny_cityscapes.py', ['--num-train', 0
                                 ], 'num_train must be an int >= 1, got 0'),
    ('brain_mri.py', ['--val-every', 1
                      ], 'val_every must be an int >= 2, got 1'),
    ('make_tiny_kinetics.py', ['--num-frames', 0],
     'num_frames must be an int in [1, 120], got 0'),
])
def test_generators_refuse_bad_settings(tmp_path, script, args, message):
    """Refused before anything is fetched or written."""
    stderr = _refused(script, tmp_path / 'out', *args)
    assert f'error: {message}' in stderr
    assert not any(tmp_path.iterdir())


def test_generators_refuse_a_full_out_dir(tmp_path):
    (tmp_path / 'keep.txt').write_text('mine')
    stderr = _refused('make_tiny_cityscapes.py', tmp_path)
    assert f"error: out_dir '{tmp_path}' is not empty" in stderr
    assert os.listdir(tmp_path) == ['keep.txt']


# --------------------------------------------------------------------------
# Fashion-MNIST from gzipped IDX files
# --------------------------------------------------------------------------


@pytest.fixture
def fashion_arrays():
    """20 train and 10 test 28x28 images with every label 0-9."""
    return make_fashion_arrays(FASHION_COUNTS)


def _fashion_dataset(split_cfg, root):
    """The dataset of a dataloader of the Fashion-MNIST config on root."""
    import mmpretrain.datasets  # noqa: F401 (registers the datasets)
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS
    cfg = dict(split_cfg.dataset, data_root=str(root), pipeline=[])
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(cfg)


def test_fashion_mnist_converts_a_folder_of_idx_files(tmp_path,
                                                      fashion_arrays):
    """The command line on user files: what mmpretrain's FashionMNIST
    reads, images and labels exactly as written."""
    from mmengine.config import Config
    src = write_fashion_src(tmp_path / 'src', fashion_arrays)
    out = tmp_path / 'out' / 'fashion_mnist'
    stdout = _run_tool('fashion_mnist.py', out, '--src', src)
    assert f'Fashion-MNIST written to {out}' in stdout
    assert sorted(os.listdir(out)) == sorted(fashion_arrays)
    assert os.listdir(out.parent) == ['fashion_mnist']  # nothing left over
    for name, array in fashion_arrays.items():
        magic, read = read_idx(out / name)
        assert magic == (2051 if 'images' in name else 2049)
        np.testing.assert_array_equal(read, array)
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'mmpretrain',
                 'resnet18-cifar_fashion-mnist.py'))
    for split_cfg, split in ((cfg.train_dataloader, 'train'),
                             (cfg.val_dataloader, 't10k')):
        dataset = _fashion_dataset(split_cfg, out)
        images = fashion_arrays[f'{split}-images-idx3-ubyte']
        labels = fashion_arrays[f'{split}-labels-idx1-ubyte']
        assert len(dataset) == FASHION_COUNTS[split]
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            np.testing.assert_array_equal(info['img'], images[index])
            assert info['gt_label'] == labels[index]


def _bad_header(arrays, name):
    data = bytearray(idx_bytes(arrays[name], 2051))
    data[3] = 0x01  # magic 2049: one dimension
    return bytes(data)


@pytest.mark.parametrize(
    'name, make, message',
    [('train-images-idx3-ubyte', _bad_header,
      r'train-images-idx3-ubyte: IDX header says magic 2049 shape '
      r'\(20, 28, 28\), expected magic 2051 shape \(N, 28, 28\)'),
     ('t10k-images-idx3-ubyte', lambda a, n: idx_bytes(a[n][:, :27], 2051),
      r't10k-images-idx3-ubyte: IDX header says magic 2051 shape '
      r'\(10, 27, 28\)'),
     ('t10k-labels-idx1-ubyte', lambda a, n: idx_bytes(a[n], 2049)[:-1],
      r't10k-labels-idx1-ubyte: 17 bytes, expected 18'),
     ('train-labels-idx1-ubyte', lambda a, n: b'\x00\x00\x08',
      r'train-labels-idx1-ubyte: 3 bytes, shorter than its 8-byte IDX '
      r'header'),
     ('train-labels-idx1-ubyte', lambda a, n: idx_bytes(a[n] + 3, 2049),
      r'train-labels-idx1-ubyte: label 1[0-2] out of range 0-9'),
     ('t10k-labels-idx1-ubyte', lambda a, n: idx_bytes(a[n][:9], 2049),
      r't10k-images-idx3-ubyte holds 10 images but t10k-labels-idx1-ubyte '
      r'9 labels')])
def test_fashion_mnist_refuses_bad_idx_files(tmp_path, fashion_arrays, name,
                                             make, message):
    src = write_fashion_src(tmp_path / 'src', fashion_arrays,
                            **{name: make(fashion_arrays, name)})
    out = tmp_path / 'out'
    with pytest.raises(ValueError, match=message):
        fashion_mnist.convert(str(src), str(out))
    assert os.listdir(tmp_path) == ['src']  # no output, no temporary folder
    assert re.search(message, _refused('fashion_mnist.py', out, '--src', src))


# --------------------------------------------------------------------------
# Fashion-MNIST pairs: two items far apart, same class or not
# --------------------------------------------------------------------------

#: At least 2 images of every class in each split.
PAIR_COUNTS = {'train': 40, 't10k': 30}
PAIR_ARGS = ('--num-train', 24, '--num-test', 11, '--canvas', 28, 112,
             '--min-distance', 40, '--noise', 20, '--seed', 3)


@pytest.fixture(scope='module')
def pairs_src(tmp_path_factory):
    """Gzipped IDX files of 40 train and 30 test images, and their arrays."""
    arrays = make_fashion_arrays(PAIR_COUNTS, seed=1)
    root = tmp_path_factory.mktemp('pairs') / 'src'
    return write_fashion_src(root, arrays), arrays


@pytest.fixture(scope='module')
def pairs_set(pairs_src):
    """The set the command line writes from ``pairs_src``, and its stdout."""
    src, _ = pairs_src
    out = src.parent / 'out' / 'fashion_mnist_pairs'
    stdout = _run_tool('fashion_mnist_pairs.py', out, '--src', src, *PAIR_ARGS)
    return out, stdout


def _file_bytes(root):
    return {
        name: (root / name).read_bytes()
        for name in map(str, all_files(root))
    }


def test_fashion_mnist_pairs_layout_and_labels(pairs_set, pairs_src):
    """Balanced labels, items of the right split and class at the recorded
    places, distances recorded and at least the minimum."""
    out, stdout = pairs_set
    _, arrays = pairs_src
    assert (f'Fashion-MNIST pairs written to {out}: 24 train and 11 test '
            'canvases') in stdout
    assert os.listdir(out.parent) == ['fashion_mnist_pairs']
    info = fashion_mnist_pairs.read_info(str(out))
    assert info['counts'] == {'train': 24, 'test': 11}
    assert info['canvas'] == [28, 112] and info['min_distance'] == 40
    assert info['seed'] == 3 and info['classes'] == ['different', 'same']
    assert info['source_dir'] == str(pairs_src[0])
    for split, source, num in (('train', 'train', 24), ('test', 't10k', 11)):
        images = arrays[f'{source}-images-idx3-ubyte']
        labels = arrays[f'{source}-labels-idx1-ubyte']
        rows = fashion_mnist_pairs.read_samples(str(out), split)
        assert [r['filename']
                for r in rows] == [f'{i:06d}.png' for i in range(num)]
        assert sorted(os.listdir(out / split)) == [r['filename'] for r in rows]
        assert read_lines(out / 'meta' / f'{split}.txt') == [
            f'{r["filename"]} {r["label"]}' for r in rows
        ]
        same = [r['label'] for r in rows]
        assert sum(same) == num // 2  # half and half
        for r in rows:
            assert r['label'] == int(r['class_a'] == r['class_b'])
            assert r['index_a'] != r['index_b']
            canvas = cv2.imread(
                str(out / split / r['filename']), cv2.IMREAD_UNCHANGED)
            assert canvas.shape == (28, 112) and canvas.dtype == np.uint8
            for side in 'ab':
                index, y, x = (r[f'index_{side}'], r[f'y_{side}'],
                               r[f'x_{side}'])
                assert labels[index] == r[f'class_{side}']
                item = images[index]
                window = canvas[y:y + 28, x:x + 28]
                # the item over the noise: exact where brighter than it
                assert (window >= item).all()
                np.testing.assert_array_equal(window[item > 20],
                                              item[item > 20])
            distance = np.hypot(r['y_b'] - r['y_a'], r['x_b'] - r['x_a'])
            assert r['distance'] == pytest.approx(distance, abs=1e-3)
            assert r['distance'] >= 40
            outside = np.ones(canvas.shape, bool)
            for side in 'ab':
                y, x = r[f'y_{side}'], r[f'x_{side}']
                outside[y:y + 28, x:x + 28] = False
            assert canvas[outside].max() <= 20  # the background noise


def test_fashion_mnist_pairs_is_deterministic(pairs_set, pairs_src, tmp_path):
    """Same seed, same bytes; another seed, another set."""
    out, _ = pairs_set
    src, _ = pairs_src
    again = tmp_path / 'again'
    _run_tool('fashion_mnist_pairs.py', again, '--src', src, *PAIR_ARGS)
    assert _file_bytes(again) == _file_bytes(out)
    other = tmp_path / 'other'
    _run_tool('fashion_mnist_pairs.py', other, '--src', src, *PAIR_ARGS[:-1],
              4)
    assert read_lines(other / 'meta' / 'train.csv') != read_lines(
        out / 'meta' / 'train.csv')


def test_fashion_mnist_pairs_loads_in_custom_dataset(pairs_set):
    """mmpretrain's CustomDataset reads the set as the config builds it."""
    from mmengine.config import Config
    out, _ = pairs_set
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'mmpretrain',
                 'resnet18-cifar_fashion-mnist-pairs.py'))
    for loader, split in ((cfg.train_dataloader, 'train'), (cfg.val_dataloader,
                                                            'test')):
        dataset = _fashion_dataset(loader, out)
        rows = fashion_mnist_pairs.read_samples(str(out), split)
        assert len(dataset) == len(rows)
        assert dataset.CLASSES == ('different', 'same')
        for index, row in enumerate(rows):
            info = dataset.get_data_info(index)
            assert info['img_path'] == str(out / split / row['filename'])
            assert info['gt_label'] == row['label']


@pytest.mark.parametrize(
    'args, message',
    [(('--num-train', 1), r'num_train must be an integer >= 2 .* got 1'),
     (('--num-test', 0), r'num_test must be an integer >= 2 .* got 0'),
     (('--canvas', 20, 112), r'canvas must be \(height, width\), each an '
      r'integer >= 28 .* got \(20, 112\)'),
     (('--min-distance', 90), r'min_distance must be between 0 and 84\.0, '
      r'the farthest two item centres can be on a 28x112 canvas, but got '
      r'90\.0'),
     (('--min-distance', -1), r'min_distance must be between 0 and 84\.0'),
     (('--noise', 256), r'noise must be an integer in 0-255 .* got 256')])
def test_fashion_mnist_pairs_refuses_bad_arguments(pairs_src, tmp_path, args,
                                                   message):
    src, _ = pairs_src
    out = tmp_path / 'out'
    stderr = _refused('fashion_mnist_pairs.py', out, '--src', src, *args)
    assert re.search(message, stderr), stderr
    assert not out.exists()


def test_fashion_mnist_pairs_refuses_bad_sources(pairs_src, pairs_set,
                                                 tmp_path):
    src, arrays = pairs_src
    out = tmp_path / 'out'
    # a class with a single test image: no pair of two distinct items
    labels = arrays['t10k-labels-idx1-ubyte'].copy()
    labels[labels == 3] = 4
    labels[np.flatnonzero(labels == 4)[0]] = 3
    few = write_fashion_src(
        tmp_path / 'few', arrays,
        **{'t10k-labels-idx1-ubyte': idx_bytes(labels, 2049)})
    cases = [
        (few, out, r't10k-labels-idx1-ubyte: class 3 has 1 image\(s\); '
         r'pairs need at least 2 images of every class'),
        (tmp_path / 'nowhere', out, r'src_dir .*nowhere lacks '
         r"\['train-images-idx3-ubyte.gz'.*dataset-fashion-mnist"),
        (src, pairs_set[0], r'out_dir .* is not empty; pass overwrite=True '
         r'\(--overwrite\)'),
    ]
    for source, target, message in cases:
        before = _file_bytes(target) if target.exists() else None
        stderr = _refused('fashion_mnist_pairs.py', target, '--src', source,
                          *PAIR_ARGS)
        assert re.search(message, stderr), stderr
        if before is None:
            assert not target.exists()
        else:
            assert _file_bytes(target) == before
