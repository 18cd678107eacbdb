# Copyright (c) glore_mm contributors. All rights reserved.
"""Cityscapes for mmseg: labelIds -> labelTrainIds and split files.

Cityscapes (https://www.cityscapes-dataset.com) annotates 34 classes
(``labelIds``) but trains and evaluates on 19 of them (``trainIds``); the
others are ignored (255). mmseg's ``CityscapesDataset`` reads
``*_gtFine_labelTrainIds.png``, which the official archives do not contain.
This module writes them from the ``*_gtFine_labelIds.png`` files with the
table of ``cityscapesscripts/helpers/labels.py``, copied below, so neither
``cityscapesscripts`` nor the polygon json files are needed.

Expected input layout (as unpacked from ``leftImg8bit_trainvaltest.zip`` and
``gtFine_trainvaltest.zip``)::

    CITYSCAPES_ROOT
    |-- leftImg8bit/{train,val,test}/<city>/<stem>_leftImg8bit.png
    `-- gtFine/{train,val,test}/<city>/<stem>_gtFine_labelIds.png

where ``<stem>`` is ``<city>_<seq>_<frame>``, e.g. ``aachen_000000_000019``.

Output: ``<stem>_gtFine_labelTrainIds.png`` under
``OUT_DIR/gtFine/<split>/<city>/`` (with the default ``OUT_DIR`` that is next
to each labelIds file) and ``OUT_DIR/{train,val,test}.txt`` listing
``<city>/<stem>`` per line, like mmseg's own converter (one file per split
present in ``gtFine``). Every file is written to a temporary name and then
renamed, so an interrupted run leaves no half-written file.

The command line is ``tools/dataset_converters/cityscapes.py``.
"""
import os
import os.path as osp
from collections import namedtuple
from functools import partial
from typing import Dict, List, Optional

import cv2
import numpy as np
from mmengine.utils import scandir, track_parallel_progress, track_progress

from glore_mm.utils import atomic_write, write_png

#: Suffix of the official 34-class annotation files.
LABEL_IDS_SUFFIX = '_gtFine_labelIds.png'
#: Suffix of the 19-class files mmseg's ``CityscapesDataset`` reads.
LABEL_TRAIN_IDS_SUFFIX = '_gtFine_labelTrainIds.png'
#: Splits looked for under ``gtFine``.
SPLITS = ('train', 'val', 'test')
#: Train id of every ignored class and of values outside the table.
IGNORE_INDEX = 255

CityscapesLabel = namedtuple('CityscapesLabel',
                             ['name', 'id', 'train_id', 'color'])

# Columns name, id, trainId and color (RGB) of ``labels`` in
# cityscapesscripts/helpers/labels.py (github.com/mcordts/cityscapesScripts).
# 'license plate' (id -1) never occurs in labelIds images and is left out.
CITYSCAPES_LABELS = (
    CityscapesLabel('unlabeled', 0, 255, (0, 0, 0)),
    CityscapesLabel('ego vehicle', 1, 255, (0, 0, 0)),
    CityscapesLabel('rectification border', 2, 255, (0, 0, 0)),
    CityscapesLabel('out of roi', 3, 255, (0, 0, 0)),
    CityscapesLabel('static', 4, 255, (0, 0, 0)),
    CityscapesLabel('dynamic', 5, 255, (111, 74, 0)),
    CityscapesLabel('ground', 6, 255, (81, 0, 81)),
    CityscapesLabel('road', 7, 0, (128, 64, 128)),
    CityscapesLabel('sidewalk', 8, 1, (244, 35, 232)),
    CityscapesLabel('parking', 9, 255, (250, 170, 160)),
    CityscapesLabel('rail track', 10, 255, (230, 150, 140)),
    CityscapesLabel('building', 11, 2, (70, 70, 70)),
    CityscapesLabel('wall', 12, 3, (102, 102, 156)),
    CityscapesLabel('fence', 13, 4, (190, 153, 153)),
    CityscapesLabel('guard rail', 14, 255, (180, 165, 180)),
    CityscapesLabel('bridge', 15, 255, (150, 100, 100)),
    CityscapesLabel('tunnel', 16, 255, (150, 120, 90)),
    CityscapesLabel('pole', 17, 5, (153, 153, 153)),
    CityscapesLabel('polegroup', 18, 255, (153, 153, 153)),
    CityscapesLabel('traffic light', 19, 6, (250, 170, 30)),
    CityscapesLabel('traffic sign', 20, 7, (220, 220, 0)),
    CityscapesLabel('vegetation', 21, 8, (107, 142, 35)),
    CityscapesLabel('terrain', 22, 9, (152, 251, 152)),
    CityscapesLabel('sky', 23, 10, (70, 130, 180)),
    CityscapesLabel('person', 24, 11, (220, 20, 60)),
    CityscapesLabel('rider', 25, 12, (255, 0, 0)),
    CityscapesLabel('car', 26, 13, (0, 0, 142)),
    CityscapesLabel('truck', 27, 14, (0, 0, 70)),
    CityscapesLabel('bus', 28, 15, (0, 60, 100)),
    CityscapesLabel('caravan', 29, 255, (0, 0, 90)),
    CityscapesLabel('trailer', 30, 255, (0, 0, 110)),
    CityscapesLabel('train', 31, 16, (0, 80, 100)),
    CityscapesLabel('motorcycle', 32, 17, (0, 0, 230)),
    CityscapesLabel('bicycle', 33, 18, (119, 11, 32)),
)


def _build_lookup_table() -> np.ndarray:
    """Return the 256-entry uint8 table labelId -> trainId."""
    table = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for label in CITYSCAPES_LABELS:
        table[label.id] = label.train_id
    table.flags.writeable = False
    return table


#: ``LABEL_ID_TO_TRAIN_ID[label_id]`` is the train id (255 = ignored).
LABEL_ID_TO_TRAIN_ID = _build_lookup_table()


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map a Cityscapes labelIds map to trainIds.

    Args:
        label_ids (np.ndarray): Integer map of labelIds, any shape. Values
            outside 0-33 are treated as unlabeled.

    Returns:
        np.ndarray: uint8 map of the same shape, 0-18 or 255 (ignored).
    """
    label_ids = np.asarray(label_ids)
    if not np.issubdtype(label_ids.dtype, np.integer):
        raise TypeError('label_ids must be an integer array, got dtype '
                        f'{label_ids.dtype}')
    inside = (label_ids >= 0) & (label_ids < LABEL_ID_TO_TRAIN_ID.size)
    train_ids = np.full(label_ids.shape, IGNORE_INDEX, dtype=np.uint8)
    train_ids[inside] = LABEL_ID_TO_TRAIN_ID[label_ids[inside]]
    return train_ids


def convert_label_file(label_ids_path: str,
                       out_path: Optional[str] = None) -> str:
    """Write the labelTrainIds PNG of one labelIds PNG.

    Args:
        label_ids_path (str): A ``*_gtFine_labelIds.png`` file.
        out_path (str, optional): Where to write. Defaults to None: the
            same folder, suffix ``_gtFine_labelTrainIds.png``.

    Returns:
        str: The path written.
    """
    if out_path is None:
        if not label_ids_path.endswith(LABEL_IDS_SUFFIX):
            raise ValueError(f'label_ids_path {label_ids_path!r} does not '
                             f'end with {LABEL_IDS_SUFFIX!r}; pass out_path')
        out_path = (
            label_ids_path[:-len(LABEL_IDS_SUFFIX)] + LABEL_TRAIN_IDS_SUFFIX)
    label_ids = cv2.imread(label_ids_path, cv2.IMREAD_UNCHANGED)
    if label_ids is None:
        raise OSError(f'could not read the image {label_ids_path}')
    if label_ids.ndim != 2 or label_ids.dtype != np.uint8:
        raise ValueError(
            f'{label_ids_path} must be a single-channel 8-bit labelIds PNG, '
            f'got shape {label_ids.shape} and dtype {label_ids.dtype}')
    write_png(out_path, label_ids_to_train_ids(label_ids))
    return out_path


def _convert_one(rel_path: str, gt_dir: str, out_gt_dir: str) -> str:
    """Convert ``gt_dir/rel_path`` into the mirrored place in out_gt_dir."""
    out_path = osp.join(
        out_gt_dir, rel_path[:-len(LABEL_IDS_SUFFIX)] + LABEL_TRAIN_IDS_SUFFIX)
    os.makedirs(osp.dirname(out_path), exist_ok=True)
    return convert_label_file(osp.join(gt_dir, rel_path), out_path)


def convert_cityscapes(cityscapes_path: str,
                       out_dir: Optional[str] = None,
                       nproc: int = 1,
                       gt_dir_name: str = 'gtFine') -> Dict[str, List[str]]:
    """Write labelTrainIds PNGs and split files for a Cityscapes tree.

    Args:
        cityscapes_path (str): The Cityscapes root (holding ``gtFine``).
        out_dir (str, optional): Root of the output; the labelTrainIds files
            go to ``out_dir/gtFine/<split>/<city>/`` and the split files to
            ``out_dir``. Defaults to None: ``cityscapes_path`` (in place).
        nproc (int): Worker processes. Defaults to 1.
        gt_dir_name (str): The annotation folder. Defaults to 'gtFine'.

    Returns:
        dict[str, list[str]]: For each split found, its ``<city>/<stem>``
        names in the order written to ``<split>.txt``.
    """
    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f'nproc must be a positive int, got {nproc!r}')
    if not osp.isdir(cityscapes_path):
        raise FileNotFoundError(
            f'cityscapes_path {cityscapes_path!r} is not a directory; '
            'expected a Cityscapes root holding leftImg8bit/ and '
            f'{gt_dir_name}/')
    gt_dir = osp.join(cityscapes_path, gt_dir_name)
    if not osp.isdir(gt_dir):
        raise FileNotFoundError(
            f'{gt_dir!r} does not exist; expected the layout '
            f'{gt_dir_name}/{{train,val,test}}/<city>/'
            f'<stem>{LABEL_IDS_SUFFIX} (unpack gtFine_trainvaltest.zip '
            'into the Cityscapes root)')
    out_dir = cityscapes_path if out_dir is None else out_dir
    out_gt_dir = osp.join(out_dir, gt_dir_name)

    rel_paths = sorted(
        scandir(gt_dir, suffix=LABEL_IDS_SUFFIX, recursive=True))
    if not rel_paths:
        raise FileNotFoundError(
            f'no *{LABEL_IDS_SUFFIX} file under {gt_dir!r}; expected '
            f'{gt_dir_name}/{{train,val,test}}/<city>/<stem>'
            f'{LABEL_IDS_SUFFIX}')
    convert = partial(_convert_one, gt_dir=gt_dir, out_gt_dir=out_gt_dir)
    if nproc > 1:
        track_parallel_progress(convert, rel_paths, nproc)
    else:
        track_progress(convert, rel_paths)

    splits = {}
    for split in SPLITS:
        prefix = split + '/'
        names = [
            path[len(prefix):-len(LABEL_IDS_SUFFIX)]
            for path in (p.replace(os.sep, '/') for p in rel_paths)
            if path.startswith(prefix)
        ]
        if names:
            atomic_write(''.join(f'{name}\n' for name in names),
                         osp.join(out_dir, f'{split}.txt'))
            splits[split] = names
    return splits
