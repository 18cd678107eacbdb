# Copyright (c) glore_mm contributors. All rights reserved.
"""End-to-end tests of ``tools/dataset_converters`` and
:mod:`glore_mm.datasets`, the package they call.

The Cityscapes converter runs on trees written here; the tiny tree is loaded
by mmseg's own ``CityscapesDataset``; the brain MRI converter runs on the
real MNI template from the nilearn wheel (downloaded once with pip into the
glore_mm cache, then reused); the Fashion-MNIST converter runs on small
gzipped IDX files written here, read back by mmpretrain's ``FashionMNIST``
as the config builds it, and on the Debian package where it is installed;
the Fashion-MNIST pairs generator runs on such files too, its set read back
by mmpretrain's ``CustomDataset`` as the pairs config builds it.
"""
import os
import os.path as osp
import re
import struct
import subprocess
import sys
import zipfile

import cv2
import numpy as np
import pytest
from fashion_mnist_files import fashion_arrays as make_fashion_arrays
from fashion_mnist_files import idx_bytes, write_fashion_src
from tool_runner import run_tool

from glore_mm.datasets import (brain_mri, cityscapes, default_cache_dir,
                               fashion_mnist, fashion_mnist_pairs,
                               tiny_cityscapes)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS_DIR = osp.join(REPO_ROOT, 'tools', 'dataset_converters')

# Written out from cityscapesscripts/helpers/labels.py, independently of the
# table in the converter: labelId -> trainId of the 19 evaluated classes.
TRAIN_IDS = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}  # yapf: disable
CITYSCAPES_VALUES = set(range(19)) | {255}


def _run_tool(script, *args):
    """Run a converter script in a fresh interpreter; return its stdout."""
    result = subprocess.run(
        [sys.executable,
         osp.join(TOOLS_DIR, script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _refused(script, *args, cwd=REPO_ROOT):
    """Run a converter on bad input: it must refuse it as argparse does
    (usage, ``error: <message>``, exit status 2, no traceback); return its
    stderr."""
    result = run_tool(
        [sys.executable, osp.join(TOOLS_DIR, script), *args], cwd, ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f'usage: {script}'), result.stderr
    assert f'{script}: error: ' in result.stderr
    assert 'Traceback' not in result.stderr
    return result.stderr


def _expected_train_ids(label_ids):
    """Literal labelId -> trainId mapping, pixel by pixel."""
    expected = np.full(label_ids.shape, 255, dtype=np.uint8)
    for label_id, train_id in TRAIN_IDS.items():
        expected[label_ids == label_id] = train_id
    return expected


def _read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def _all_files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


# --------------------------------------------------------------------------
# Cityscapes label table and converter
# --------------------------------------------------------------------------


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


def _write_label_ids(root, split, city, index, label_ids):
    stem = f'{city}_{index:06d}_000019'
    gt_dir = osp.join(root, 'gtFine', split, city)
    img_dir = osp.join(root, 'leftImg8bit', split, city)
    os.makedirs(gt_dir, exist_ok=True)
    os.makedirs(img_dir, exist_ok=True)
    path = osp.join(gt_dir, stem + '_gtFine_labelIds.png')
    assert cv2.imwrite(path, label_ids)
    image = np.zeros(label_ids.shape[:2] + (3, ), np.uint8)
    assert cv2.imwrite(osp.join(img_dir, stem + '_leftImg8bit.png'), image)
    return f'{city}/{stem}'


@pytest.fixture
def raw_cityscapes(tmp_path):
    """A hand-made tree: every labelId 0-33 plus values outside the table."""
    root = str(tmp_path / 'cityscapes')
    rng = np.random.default_rng(1)
    values = np.concatenate([np.arange(34), [34, 100, 254, 255]])
    layout = [('train', 'aachen', 0), ('train', 'aachen', 1),
              ('train', 'bochum', 0), ('val', 'frankfurt', 0),
              ('test', 'berlin', 0)]
    names = {}
    for split, city, index in layout:
        label_ids = rng.choice(values, size=(9, 13)).astype(np.uint8)
        label_ids.flat[:values.size] = values
        name = _write_label_ids(root, split, city, index, label_ids)
        names.setdefault(split, []).append(name)
    return root, names


def test_convert_cityscapes_in_place(raw_cityscapes):
    root, names = raw_cityscapes
    splits = cityscapes.convert_cityscapes(root)
    assert splits == names
    for split, split_names in names.items():
        assert _read_lines(osp.join(root, f'{split}.txt')) == split_names
        for name in split_names:
            gt = osp.join(root, 'gtFine', split, name)
            label_ids = cv2.imread(gt + '_gtFine_labelIds.png',
                                   cv2.IMREAD_UNCHANGED)
            train_ids = cv2.imread(gt + '_gtFine_labelTrainIds.png',
                                   cv2.IMREAD_UNCHANGED)
            assert train_ids.dtype == np.uint8
            assert train_ids.shape == label_ids.shape == (9, 13)
            np.testing.assert_array_equal(train_ids,
                                          _expected_train_ids(label_ids))
    # Only the outputs were added: no temporary file is left behind.
    assert not [
        f for f in _all_files(root) if '.tmp' in f or f.endswith('.partial')
    ]


def test_convert_cityscapes_out_dir_two_processes(raw_cityscapes, tmp_path):
    root, names = raw_cityscapes
    before = _all_files(root)
    out_dir = str(tmp_path / 'out')
    cityscapes.convert_cityscapes(root, out_dir=out_dir, nproc=2)
    assert _all_files(root) == before  # the input tree is left alone
    expected = sorted([f'{split}.txt' for split in names] + [
        osp.join('gtFine', split, name + '_gtFine_labelTrainIds.png')
        for split, split_names in names.items() for name in split_names
    ])
    assert _all_files(out_dir) == expected
    name = names['val'][0]
    label_ids = cv2.imread(
        osp.join(root, 'gtFine', 'val', name + '_gtFine_labelIds.png'),
        cv2.IMREAD_UNCHANGED)
    train_ids = cv2.imread(
        osp.join(out_dir, 'gtFine', 'val', name + '_gtFine_labelTrainIds.png'),
        cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(train_ids, _expected_train_ids(label_ids))


def test_convert_cityscapes_command_line(raw_cityscapes):
    root, names = raw_cityscapes
    stdout = _run_tool('cityscapes.py', root, '--nproc', 2)
    assert 'train: 3 images' in stdout and 'test: 1 images' in stdout
    assert _read_lines(osp.join(root, 'train.txt')) == names['train']


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
    path = _write_label_ids(
        str(root), 'train', 'ulm', 0, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match='ulm_000000_000019.*single-channel'):
        cityscapes.convert_cityscapes(str(root))
    assert path == 'ulm/ulm_000000_000019'
    stderr = _refused('cityscapes.py', missing)
    assert f'error: cityscapes_path {missing!r} is not a directory' in stderr


# --------------------------------------------------------------------------
# Tiny Cityscapes tree
# --------------------------------------------------------------------------


@pytest.fixture(scope='module')
def tiny_tree(tmp_path_factory):
    """The tree of the command line tool with its defaults."""
    out_dir = str(tmp_path_factory.mktemp('tiny') / 'cityscapes')
    stdout = _run_tool('make_tiny_cityscapes.py', out_dir)
    assert 'train: 4, val: 2' in stdout
    return out_dir


def test_tiny_tree_layout(tiny_tree):
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
        assert _read_lines(osp.join(tiny_tree, f'{split}.txt')) == names
        for name in names:
            expected += [
                osp.join('leftImg8bit', split, name + '_leftImg8bit.png'),
                osp.join('gtFine', split, name + '_gtFine_labelIds.png'),
                osp.join('gtFine', split, name + '_gtFine_labelTrainIds.png')
            ]
    assert _all_files(tiny_tree) == sorted(expected)
    for split, names in stems.items():
        for name in names:
            image = cv2.imread(
                osp.join(tiny_tree, 'leftImg8bit', split,
                         name + '_leftImg8bit.png'), cv2.IMREAD_UNCHANGED)
            gt = osp.join(tiny_tree, 'gtFine', split, name)
            label_ids = cv2.imread(gt + '_gtFine_labelIds.png',
                                   cv2.IMREAD_UNCHANGED)
            train_ids = cv2.imread(gt + '_gtFine_labelTrainIds.png',
                                   cv2.IMREAD_UNCHANGED)
            assert image.shape == (64, 128, 3) and image.dtype == np.uint8
            assert label_ids.shape == train_ids.shape == (64, 128)
            np.testing.assert_array_equal(train_ids,
                                          _expected_train_ids(label_ids))


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
    for name in _read_lines(osp.join(root, 'train.txt')):
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
            for path in _all_files(root) if path.endswith('.png')
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
    assert _all_files(str(out_dir)) == ['keep.txt']
    tiny_cityscapes.make_tiny_cityscapes(
        str(out_dir), num_train=1, num_val=1, overwrite=True)
    files = _all_files(str(out_dir))
    assert 'keep.txt' not in files and 'train.txt' in files
    assert os.listdir(tmp_path) == ['tiny']  # no temporary folder left
    with pytest.raises(ValueError, match='num_train'):
        tiny_cityscapes.make_tiny_cityscapes(str(tmp_path / 'x'), num_train=0)
    with pytest.raises(ValueError, match='size'):
        tiny_cityscapes.make_tiny_cityscapes(
            str(tmp_path / 'x'), size=(8, 128))
    assert not osp.exists(tmp_path / 'x')


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


@pytest.mark.parametrize('split,ann_file,num', [('train', '', 4),
                                                ('val', 'val.txt', 2)])
def test_tiny_tree_loads_in_cityscapes_dataset(tiny_tree, split, ann_file,
                                               num):
    dataset = _build_dataset(
        dict(
            type='CityscapesDataset',
            data_root=tiny_tree,
            ann_file=ann_file,
            data_prefix=dict(
                img_path=f'leftImg8bit/{split}',
                seg_map_path=f'gtFine/{split}')))
    assert type(dataset).__name__ == 'CityscapesDataset'
    assert len(dataset) == num
    seen = set()
    for index in range(num):
        sample = dataset[index]
        assert tuple(sample['inputs'].shape) == (3, 64, 128)
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


def test_tissue_labels_rule():
    gm = np.array([0.6, 0.2, 0.0, 0.3, 0.5, 0.45, 1.0])
    wm = np.array([0.3, 0.7, 0.0, 0.3, 0.5, 0.1, 0.2])
    # bg = clip(1 - gm - wm): .1, .1, 1, .4, 0, .45 (tie with gm), 0
    np.testing.assert_array_equal(
        brain_mri.tissue_labels(gm, wm), [1, 2, 0, 0, 1, 0, 1])


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


def test_brain_mri_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such.whl'):
        brain_mri.build_brain_mri(
            str(tmp_path / 'a'), nilearn_wheel=str(tmp_path / 'no_such.whl'))
    fake = str(tmp_path / 'fake.whl')
    with zipfile.ZipFile(fake, 'w') as wheel:
        wheel.writestr('nilearn/__init__.py', '')
    with pytest.raises(ValueError, match='fake.whl.*mni_icbm152_t1'):
        brain_mri.build_brain_mri(str(tmp_path / 'a'), nilearn_wheel=fake)
    with pytest.raises(ValueError, match='val_every'):
        brain_mri.build_brain_mri(str(tmp_path / 'a'), val_every=1)
    with pytest.raises(ValueError, match='size'):
        brain_mri.build_brain_mri(str(tmp_path / 'a'), size=8)
    (tmp_path / 'full').mkdir()
    (tmp_path / 'full' / 'x').write_text('')
    with pytest.raises(FileExistsError, match='full'):
        brain_mri.build_brain_mri(str(tmp_path / 'full'), nilearn_wheel=fake)
    assert sorted(os.listdir(tmp_path)) == ['fake.whl', 'full']


def test_default_cache_dir(monkeypatch):
    monkeypatch.setenv('GLORE_MM_CACHE', '/c/glore')
    assert default_cache_dir() == '/c/glore/downloads'
    monkeypatch.delenv('GLORE_MM_CACHE')
    monkeypatch.setenv('XDG_CACHE_HOME', '/x')
    assert default_cache_dir() == '/x/glore_mm/downloads'
    monkeypatch.delenv('XDG_CACHE_HOME')
    monkeypatch.setenv('HOME', '/h')
    assert default_cache_dir() == \
        '/h/.cache/glore_mm/downloads'


# --------------------------------------------------------------------------
# Fashion-MNIST from gzipped IDX files
# --------------------------------------------------------------------------

FM_COUNTS = {'train': 20, 't10k': 10}


@pytest.fixture
def fashion_arrays():
    """20 train and 10 test 28x28 images with every label 0-9."""
    return make_fashion_arrays(FM_COUNTS)


def _read_idx(path):
    """An independent IDX reader: magic, dimensions, then the bytes."""
    data = path.read_bytes()
    magic, = struct.unpack('>I', data[:4])
    ndim = magic & 0xff
    shape = struct.unpack(f'>{ndim}I', data[4:4 + 4 * ndim])
    return magic, np.frombuffer(data[4 + 4 * ndim:], np.uint8).reshape(shape)


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
        magic, read = _read_idx(out / name)
        assert magic == (2051 if 'images' in name else 2049)
        np.testing.assert_array_equal(read, array)
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'mmpretrain',
                 'resnet18-cifar_fashion-mnist.py'))
    for split_cfg, split in ((cfg.train_dataloader, 'train'),
                             (cfg.val_dataloader, 't10k')):
        dataset = _fashion_dataset(split_cfg, out)
        images = fashion_arrays[f'{split}-images-idx3-ubyte']
        labels = fashion_arrays[f'{split}-labels-idx1-ubyte']
        assert len(dataset) == FM_COUNTS[split]
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


def test_fashion_mnist_refuses_a_file_that_is_not_gzip(tmp_path,
                                                       fashion_arrays):
    src = write_fashion_src(tmp_path / 'src', fashion_arrays)
    (src / 't10k-labels-idx1-ubyte.gz').write_bytes(b'not gzip')
    with pytest.raises(
            ValueError,
            match='t10k-labels-idx1-ubyte.gz: not a complete gzip'):
        fashion_mnist.convert(str(src), str(tmp_path / 'out'))


def test_fashion_mnist_converter_checks(tmp_path):
    """The Debian release's checks: shapes and SHA-256."""
    with pytest.raises(FileNotFoundError, match='dataset-fashion-mnist'):
        fashion_mnist.convert(str(tmp_path / 'nowhere'), str(tmp_path / 'o'))
    assert fashion_mnist.missing_sources(
        str(tmp_path)) == [f'{name}.gz' for name in fashion_mnist.FILES]
    labels = np.arange(10000, dtype=np.uint8) % 10
    data = struct.pack('>2I', 2049, 10000) + labels.tobytes()
    with pytest.raises(ValueError, match='SHA-256'):
        fashion_mnist.check_idx('t10k-labels-idx1-ubyte', data)
    np.testing.assert_array_equal(
        fashion_mnist.check_idx(
            't10k-labels-idx1-ubyte', data, checksum=False), labels)
    with pytest.raises(ValueError, match='magic 2049 shape'):
        fashion_mnist.check_idx('t10k-images-idx3-ubyte', data)
    with pytest.raises(ValueError, match='label 12 out of range'):
        fashion_mnist.check_idx('t10k-labels-idx1-ubyte', data[:-1] + b'\x0c')
    # with the checksum the Debian release's shape is required
    small = struct.pack('>2I', 2049, 10) + labels[:10].tobytes()
    with pytest.raises(
            ValueError, match=r'expected magic 2049 shape '
            r'\(10000,\)'):
        fashion_mnist.check_idx('t10k-labels-idx1-ubyte', small)


@pytest.mark.skipif(
    bool(fashion_mnist.missing_sources()),
    reason='Debian package dataset-fashion-mnist not installed')
def test_fashion_mnist_converter_debian(tmp_path):
    out = tmp_path / 'fashion_mnist'
    counts = fashion_mnist.convert(fashion_mnist.DEBIAN_DIR, str(out))
    assert counts == {'train': 60000, 't10k': 10000}
    assert sorted(p.name for p in out.iterdir()) == sorted(fashion_mnist.FILES)
    with pytest.raises(FileExistsError):
        fashion_mnist.convert(fashion_mnist.DEBIAN_DIR, str(out))


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
        for name in map(str, _all_files(root))
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
        assert _read_lines(out / 'meta' / f'{split}.txt') == [
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
    assert _read_lines(other / 'meta' / 'train.csv') != _read_lines(
        out / 'meta' / 'train.csv')


def test_fashion_mnist_pairs_loads_in_custom_dataset(pairs_set):
    """mmpretrain's CustomDataset reads the set as the config builds it."""
    from mmengine.config import Config
    out, _ = pairs_set
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'mmpretrain',
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
    # the farthest distance the canvas allows is still drawn
    far = fashion_mnist_pairs.make_fashion_mnist_pairs(
        str(src), str(out), num_train=4, num_test=4, min_distance=84)
    assert far['min_distance'] == 84
    assert {
        r['distance']
        for r in fashion_mnist_pairs.read_samples(str(out), 'test')
    } == {84.0}
