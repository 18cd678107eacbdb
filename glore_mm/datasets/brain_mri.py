# Copyright (c) glore_mm contributors. All rights reserved.
"""A small real segmentation set: brain MRI slices with tissue labels.

The source is the MNI ICBM152 2009a nonlinear symmetric template (Fonov et
al., NeuroImage 2011; McConnell Brain Imaging Centre), as shipped in the
PyPI wheel of nilearn 0.14.1: a 197x233x189 (1 mm) T1-weighted average brain
and grey- and white-matter probability maps, in the files
``nilearn/datasets/data/mni_icbm152_{t1,gm,wm}_tal_nlin_sym_09a_converted
.nii.gz``. The wheel is downloaded with ``pip download --no-deps`` into
``${GLORE_MM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/glore_mm}/downloads`` and
reused from there, unless ``--nilearn-wheel`` names a local copy; nilearn
itself is never installed or imported.

Labels: 0 background, 1 grey matter, 2 white matter. The probabilities are
stored as uint8 0-255 and divided by 255; with ``p_bg = clip(1 - p_gm -
p_wm, 0, 1)`` every voxel gets ``argmax(p_bg, p_gm, p_wm)``, ties going to
the lower label. Everything that is not grey or white matter (CSF and
what lies outside the brain) is therefore background.

Slices: the axial slices whose grey plus white matter covers at least 2 %
of the slice (about 140 of the 189) are kept, shown with anterior at the
top and the subject's right on the right. Every ``--val-every``-th kept
slice (the 5th, 10th, ...) goes to val, the others to train; all slices
come from one template brain, so val measures generalisation to unseen
slices, not to unseen subjects. The T1 volume is scaled linearly to 0-255
(its minimum to 0, the 99.5th percentile of the voxels above the minimum
to 255, clipped). With ``--size S > 0`` each slice is zero-padded to a
centred square and resized to SxS (area interpolation for the image,
nearest for the labels); ``--size 0`` keeps the 233x197 slices.

Output, in mmseg's layout (``BrainMRIDataset`` reads it)::

    OUT_DIR
    |-- img_dir/{train,val}/mni152_z<zzz>.png   8-bit grey T1
    `-- ann_dir/{train,val}/mni152_z<zzz>.png   8-bit labels 0/1/2

It is built in a temporary folder next to OUT_DIR and renamed into place.
OUT_DIR must be missing or empty unless ``overwrite`` (``--overwrite``) is
given. The command line is ``tools/dataset_converters/brain_mri.py``.
"""
import gzip
import os
import os.path as osp
import zipfile
from typing import Dict, Optional

import cv2
import nibabel as nib
import numpy as np

from glore_mm.utils import write_png
from .utils import check_empty_or_overwrite, fetch_wheel, staged_dir

NILEARN_VERSION = '0.14.1'
NILEARN_WHEEL = f'nilearn-{NILEARN_VERSION}-py3-none-any.whl'
MEMBER_TEMPLATE = ('nilearn/datasets/data/'
                   'mni_icbm152_{}_tal_nlin_sym_09a_converted.nii.gz')
VOLUMES = ('t1', 'gm', 'wm')
VOLUME_SHAPE = (197, 233, 189)
CLASSES = ('background', 'grey matter', 'white matter')
#: A slice is kept when grey plus white matter cover this part of it.
MIN_BRAIN_FRACTION = 0.02
#: Percentile of the non-minimum T1 voxels that is mapped to 255.
T1_UPPER_PERCENTILE = 99.5
SPLITS = ('train', 'val')
MIN_SIZE = 16


def fetch_nilearn_wheel(cache_dir: Optional[str] = None) -> str:
    """Return the cached nilearn 0.14.1 wheel, downloading it if missing."""
    return fetch_wheel('nilearn', NILEARN_VERSION, NILEARN_WHEEL,
                       '--nilearn-wheel', cache_dir)


def load_template(wheel_path: str) -> Dict[str, np.ndarray]:
    """Read the T1, grey- and white-matter volumes out of the wheel.

    Args:
        wheel_path (str): The nilearn 0.14.1 wheel.

    Returns:
        dict[str, np.ndarray]: ``'t1'``, ``'gm'`` and ``'wm'``, float32
        arrays of shape (197, 233, 189) in RAS voxel order; ``gm`` and
        ``wm`` are probabilities in [0, 1], ``t1`` is as stored.
    """
    if not osp.isfile(wheel_path):
        raise FileNotFoundError(
            f'nilearn wheel {wheel_path!r} does not exist; expected '
            f'{NILEARN_WHEEL} from PyPI')
    volumes = {}
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
        for key in VOLUMES:
            member = MEMBER_TEMPLATE.format(key)
            if member not in names:
                raise ValueError(f'{wheel_path!r} has no member {member!r}; '
                                 f'expected the {NILEARN_WHEEL} wheel')
            image = nib.Nifti1Image.from_bytes(
                gzip.decompress(wheel.read(member)))
            image = nib.as_closest_canonical(image)  # RAS voxel order
            data = np.asanyarray(image.dataobj)
            if data.shape != VOLUME_SHAPE or data.dtype != np.uint8:
                raise ValueError(
                    f'{member!r} in {wheel_path!r} has shape {data.shape} '
                    f'and dtype {data.dtype}; expected {VOLUME_SHAPE} uint8')
            data = data.astype(np.float32)
            volumes[key] = data if key == 't1' else data / 255
    return volumes


def tissue_labels(gm: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """Label voxels 0 background, 1 grey matter, 2 white matter.

    Args:
        gm (np.ndarray): Grey-matter probabilities in [0, 1].
        wm (np.ndarray): White-matter probabilities, same shape.

    Returns:
        np.ndarray: uint8 labels, ``argmax(p_bg, gm, wm)`` with
        ``p_bg = clip(1 - gm - wm, 0, 1)``; ties go to the lower label.
    """
    background = np.clip(1 - gm - wm, 0, 1)
    return np.argmax(np.stack([background, gm, wm]), axis=0).astype(np.uint8)


def normalise_t1(t1: np.ndarray) -> np.ndarray:
    """Scale a T1 volume linearly to uint8 0-255.

    Args:
        t1 (np.ndarray): The volume.

    Returns:
        np.ndarray: uint8 volume; the minimum goes to 0 and the 99.5th
        percentile of the voxels above the minimum to 255 (clipped).
    """
    low = float(t1.min())
    high = float(np.percentile(t1[t1 > low], T1_UPPER_PERCENTILE))
    scaled = (t1 - low) / (high - low) * 255
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def select_slices(labels: np.ndarray,
                  min_fraction: float = MIN_BRAIN_FRACTION) -> np.ndarray:
    """Return the axial (last-axis) indices of slices with enough brain.

    Args:
        labels (np.ndarray): Label volume, x by y by z.
        min_fraction (float): Least part of a slice that must be grey or
            white matter. Defaults to MIN_BRAIN_FRACTION.

    Returns:
        np.ndarray: Increasing z indices.
    """
    brain = (labels > 0).mean(axis=(0, 1))
    return np.nonzero(brain >= min_fraction)[0]


def to_picture(axial: np.ndarray, size: int, interpolation: int) -> np.ndarray:
    """Orient one axial slice for viewing, pad it square and resize it.

    Args:
        axial (np.ndarray): x by y slice in RAS order.
        size (int): Output side; 0 keeps the native (y, x) shape unpadded.
        interpolation (int): cv2 interpolation flag.

    Returns:
        np.ndarray: The picture, anterior at the top.
    """
    picture = np.ascontiguousarray(axial.T[::-1])  # [y (A->P), x (L->R)]
    if size == 0:
        return picture
    h, w = picture.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    square = np.zeros((side, side), dtype=picture.dtype)
    square[top:top + h, left:left + w] = picture
    return cv2.resize(square, (size, size), interpolation=interpolation)


def build_brain_mri(out_dir: str,
                    nilearn_wheel: Optional[str] = None,
                    val_every: int = 5,
                    size: int = 128,
                    overwrite: bool = False,
                    cache_dir: Optional[str] = None) -> Dict[str, dict]:
    """Write the brain MRI slice set to ``out_dir``.

    Args:
        out_dir (str): The folder to create; must be missing or empty
            unless ``overwrite``.
        nilearn_wheel (str, optional): A local nilearn 0.14.1 wheel.
            Defaults to None: downloaded into ``cache_dir``.
        val_every (int): Every ``val_every``-th kept slice goes to val.
            Defaults to 5.
        size (int): Side of the square output slices; 0 keeps the native
            233x197. Defaults to 128.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to
            False.
        cache_dir (str, optional): Download cache. Defaults to None:
            :func:`default_cache_dir`.

    Returns:
        dict[str, dict]: Per split, ``'slices'`` (the z indices) and
        ``'class_fractions'`` (pixel fraction of each class, in CLASSES
        order).
    """
    if not isinstance(val_every, int) or val_every < 2:
        raise ValueError(f'val_every must be an int >= 2, got {val_every!r}')
    if not isinstance(size, int) or (size != 0 and size < MIN_SIZE):
        raise ValueError(f'size must be 0 (native) or an int >= {MIN_SIZE}, '
                         f'got {size!r}')
    out_dir = osp.abspath(out_dir)
    check_empty_or_overwrite(out_dir, overwrite)
    if nilearn_wheel is None:
        nilearn_wheel = fetch_nilearn_wheel(cache_dir)
    volumes = load_template(nilearn_wheel)
    labels = tissue_labels(volumes['gm'], volumes['wm'])
    t1 = normalise_t1(volumes['t1'])
    slices = select_slices(labels)

    counts = {split: np.zeros(len(CLASSES), np.int64) for split in SPLITS}
    chosen = {split: [] for split in SPLITS}
    with staged_dir(out_dir) as tmp_dir:
        for split in SPLITS:
            for kind in ('img_dir', 'ann_dir'):
                os.makedirs(osp.join(tmp_dir, kind, split))
        for index, z in enumerate(slices):
            split = 'val' if (index + 1) % val_every == 0 else 'train'
            image = to_picture(t1[:, :, z], size, cv2.INTER_AREA)
            label = to_picture(labels[:, :, z], size, cv2.INTER_NEAREST)
            name = f'mni152_z{z:03d}.png'
            write_png(osp.join(tmp_dir, 'img_dir', split, name), image)
            write_png(osp.join(tmp_dir, 'ann_dir', split, name), label)
            counts[split] += np.bincount(label.ravel(), minlength=len(CLASSES))
            chosen[split].append(int(z))
    summary = {}
    for split in SPLITS:
        summary[split] = dict(
            slices=chosen[split],
            class_fractions=(counts[split] / counts[split].sum()).tolist())
    return summary


def format_summary(summary: Dict[str, dict], out_dir: str, size: int) -> str:
    """Describe what :func:`build_brain_mri` wrote.

    Args:
        summary (dict): Its return value.
        out_dir (str): Where it wrote.
        size (int): The ``size`` it was given.

    Returns:
        str: A few lines for the terminal.
    """
    shape = f'{size}x{size}' if size else '233x197'
    lines = [f'brain MRI slices ({shape}) in {out_dir}']
    lines += [
        f'  {split}: {len(summary[split]["slices"])} slices'
        for split in SPLITS
    ]
    lines.append('  class pixel fractions (' + ' / '.join(SPLITS) + '):')
    for index, name in enumerate(CLASSES):
        values = ' / '.join(f'{summary[split]["class_fractions"][index]:.3f}'
                            for split in SPLITS)
        lines.append(f'    {name:<13} {values}')
    return '\n'.join(lines)
