# Copyright (c) glore_mm contributors. All rights reserved.
"""Fashion-MNIST clips: is the item of the first frame the same class as
the item of the last?

A temporal relational task: each clip (8 grey 28x28 frames by default,
uniform background noise) shows one 28x28 Fashion-MNIST item in its first
frame and one in its last, each at a random place (the whole frame at the
default size); every frame in between shows, with probability
``distractors`` (0 by default: noise only), another item of a random class
at a random place, else noise only. A clip is labelled ``1`` (``same``) when
the first and the last item are of the same class and ``0``
(``different``) otherwise, half and half; the distractors' classes are
uniform over all ten, so no frame but the first and the last says anything
about the label, and those two are ``num_frames - 1`` frames apart.

The training clips take their items from Fashion-MNIST's training split,
the test clips from its test split, so test items are unseen. The set is
drawn deterministically from the seed and the gzipped IDX files of a folder
(Debian's ``dataset-fashion-mnist`` by default, checked as
:mod:`.fashion_mnist` checks them) and published atomically, in the
rawframes layout of mmaction's ``RawframeDataset``
(``filename_tmpl='img_{:05}.png'``, frames counted from 1)::

    OUT_DIR/
        rawframes/train/000000/img_00001.png ...   the frames of each clip
        rawframes/test/000000/...
        meta/train_list_rawframes.txt              "000000 8 1" per line:
        meta/test_list_rawframes.txt               folder, frames, label
        meta/train.csv                             per clip: folder, label,
        meta/test.csv                              the first and last
                                                   items' classes, source
                                                   indices and top-left
                                                   corners, and the number
                                                   of distractor frames
        meta/info.json                             the settings, source
                                                   folder, counts and label
                                                   names

The command line is ``tools/dataset_converters/fashion_mnist_clips.py``.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from glore_mm.utils import atomic_write, write_png
from . import fashion_mnist, fashion_mnist_items
from .fashion_mnist_items import (INFO_FILE, ITEM_SIZE, SOURCE_SPLITS, Items,
                                  check_count, check_level, check_sources,
                                  csv_text, other_class, paste, read_csv,
                                  read_items)
from .utils import check_empty_or_overwrite, staged_dir

#: Readers of the published set, the same for every generated set.
is_made = fashion_mnist_items.is_made
read_info = fashion_mnist_items.read_info

#: Label names, by label.
CLASSES = ('different', 'same')
#: Frame file names of mmaction's RawframeDataset, counted from 1.
FILENAME_TMPL = 'img_{:05}.png'
#: Columns of ``meta/<split>.csv``, one row per clip.
COLUMNS = ('folder', 'label', 'class_first', 'class_last', 'index_first',
           'index_last', 'y_first', 'x_first', 'y_last', 'x_last',
           'distractors')
#: Defaults of :func:`make_fashion_mnist_clips` and of the command line.
DEFAULTS = dict(
    num_train=8000,
    num_test=1000,
    num_frames=8,
    frame=(28, 28),
    distractors=0.0,
    noise=32,
    seed=0)


def ann_file(split: str) -> str:
    """The annotation list of a split, relative to the set's folder."""
    return osp.join('meta', f'{split}_list_rawframes.txt')


def read_clips(out_dir: str, split: str) -> List[Dict]:
    """The rows of ``meta/<split>.csv`` (one per clip), numbers as numbers.

    Args:
        out_dir (str): A published set.
        split (str): ``'train'`` or ``'test'``.

    Returns:
        list[dict]: One dict per clip, in list order, keyed by
        :data:`COLUMNS`.
    """
    return read_csv(
        osp.join(out_dir, 'meta', f'{split}.csv'),
        texts=('folder', ),
        floats=())


def check_settings(num_train: int, num_test: int, num_frames: int,
                   frame: Sequence[int], distractors: float,
                   noise: int) -> Tuple[int, int]:
    """Check the arguments of :func:`make_fashion_mnist_clips`.

    Returns:
        tuple[int, int]: The frame height and width.

    Raises:
        ValueError: Naming the argument, its value and what is allowed.
    """
    check_count('num_train', num_train, 2, 'clips, one of each label')
    check_count('num_test', num_test, 2, 'clips, one of each label')
    check_count('num_frames', num_frames, 2, 'frames per clip: the first '
                'and the last')
    if len(frame) != 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < ITEM_SIZE
            for s in frame):
        raise ValueError(f'frame must be (height, width), each an integer '
                         f'>= {ITEM_SIZE} (the item size), but got '
                         f'{tuple(frame)!r}')
    if isinstance(
            distractors,
            bool) or not isinstance(distractors,
                                    (int, float)) or not 0 <= distractors <= 1:
        raise ValueError(f'distractors must be a probability in 0-1 (of an '
                         f'item in a frame between the first and the last), '
                         f'but got {distractors!r}')
    check_level('noise', noise, 255, 'the largest background value')
    return tuple(frame)


def _place(rng: np.random.Generator, frame: Tuple[int,
                                                  int]) -> Tuple[int, int]:
    """A uniform top-left corner of an item in a frame."""
    return (int(rng.integers(frame[0] - ITEM_SIZE + 1)),
            int(rng.integers(frame[1] - ITEM_SIZE + 1)))


def draw_clip(items: Items, same: bool, num_frames: int,
              frame: Tuple[int, int], distractors: float, noise: int,
              rng: np.random.Generator) -> Tuple[np.ndarray, Dict]:
    """Draw one clip and its record.

    Args:
        items (Items): The items of the split.
        same (bool): Whether the first and the last item share a class.
        num_frames (int): Frames of the clip.
        frame (tuple[int, int]): Frame height and width.
        distractors (float): Probability of an item in a middle frame.
        noise (int): Background pixels are uniform in ``0..noise``.
        rng (np.random.Generator): The only source of randomness.

    Returns:
        tuple: The uint8 frames (T, H, W) and the record with the
        :data:`COLUMNS` other than ``folder``.
    """
    frames = rng.integers(0, noise + 1, (num_frames, *frame), dtype=np.uint8)
    class_first = int(rng.integers(fashion_mnist.NUM_CLASSES))
    class_last = class_first if same else other_class(rng, class_first)
    index_first = int(rng.choice(items.by_class[class_first]))
    pool = items.by_class[class_last]
    index_last = int(rng.choice(pool[pool != index_first]))
    record = dict(
        label=int(same),
        class_first=class_first,
        class_last=class_last,
        index_first=index_first,
        index_last=index_last)
    for side, t, index in (('first', 0, index_first), ('last', num_frames - 1,
                                                       index_last)):
        y, x = _place(rng, frame)
        paste(frames[t], items.images[index], y, x)
        record.update({f'y_{side}': y, f'x_{side}': x})
    shown = rng.random(num_frames - 2) < distractors
    for t in np.flatnonzero(shown) + 1:
        index = int(rng.integers(len(items.images)))
        paste(frames[t], items.images[index], *_place(rng, frame))
    record['distractors'] = int(shown.sum())
    return frames, record


def make_fashion_mnist_clips(src_dir: str = fashion_mnist.DEBIAN_DIR,
                             out_dir: str = 'data/fashion_mnist_clips',
                             num_train: int = DEFAULTS['num_train'],
                             num_test: int = DEFAULTS['num_test'],
                             num_frames: int = DEFAULTS['num_frames'],
                             frame: Sequence[int] = DEFAULTS['frame'],
                             distractors: float = DEFAULTS['distractors'],
                             noise: int = DEFAULTS['noise'],
                             seed: int = DEFAULTS['seed'],
                             overwrite: bool = False,
                             checksum: Optional[bool] = None) -> Dict:
    """Generate the clips set from the gzipped IDX files of ``src_dir``.

    Args:
        src_dir (str): Folder with Fashion-MNIST's four
            ``{train,t10k}-*-ubyte.gz``. Defaults to the Debian package's.
        out_dir (str): Output folder, published when complete.
            Defaults to ``'data/fashion_mnist_clips'``.
        num_train (int): Training clips (items of the train split).
            Defaults to 8000.
        num_test (int): Test clips (items of the test split). Defaults to
            1000.
        num_frames (int): Frames per clip; the two items compared are this
            many minus one frames apart. Defaults to 8.
        frame (Sequence[int]): Frame height and width. Defaults to (28, 28).
        distractors (float): Probability of an item of a random class in
            each frame between the first and the last. Defaults to 0.
        noise (int): Largest background value (uniform noise). Defaults
            to 32.
        seed (int): Seed of everything drawn. Defaults to 0.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to False.
        checksum (bool, optional): Check the Debian release's shapes and
            SHA-256. Defaults to None: only when ``src_dir`` is the Debian
            package's folder.

    Returns:
        dict: What ``meta/info.json`` holds: the settings, the number of
        clips per split and the label names.
    """
    frame = check_settings(num_train, num_test, num_frames, frame, distractors,
                           noise)
    checksum = check_sources(src_dir, checksum)
    check_empty_or_overwrite(out_dir, overwrite)
    info = dict(
        classes=list(CLASSES),
        num_frames=num_frames,
        frame=list(frame),
        item_size=ITEM_SIZE,
        distractors=distractors,
        noise=noise,
        seed=seed,
        filename_tmpl=FILENAME_TMPL,
        source_dir=osp.abspath(src_dir),
        counts=dict(train=num_train, test=num_test),
        source_splits=dict(SOURCE_SPLITS))
    with staged_dir(out_dir) as tmp_dir:
        os.makedirs(osp.join(tmp_dir, 'meta'))
        for split_index, (split, source) in enumerate(SOURCE_SPLITS.items()):
            items = read_items(src_dir, source, checksum, 2, 'clips')
            rng = np.random.default_rng([seed, split_index])
            num = info['counts'][split]
            same = rng.permutation(np.arange(num) % 2 == 1)
            rows = []
            for i in range(num):
                frames, record = draw_clip(items, same[i], num_frames, frame,
                                           distractors, noise, rng)
                folder = f'{i:06d}'
                for t, image in enumerate(frames):
                    write_png(
                        osp.join(tmp_dir, 'rawframes', split, folder,
                                 FILENAME_TMPL.format(t + 1)), image)
                rows.append(dict(folder=folder, **record))
            atomic_write(
                ''.join(f'{r["folder"]} {num_frames} {r["label"]}\n'
                        for r in rows), osp.join(tmp_dir, ann_file(split)))
            atomic_write(
                csv_text(rows, COLUMNS),
                osp.join(tmp_dir, 'meta', f'{split}.csv'))
        atomic_write(
            json.dumps(info, indent=2) + '\n', osp.join(tmp_dir, INFO_FILE))
    return info
