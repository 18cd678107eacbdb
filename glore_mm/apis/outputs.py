# Copyright (c) glore_mm contributors. All rights reserved.
"""The inputs of a run and where its outputs go, for a file or a folder.

An input is a file or a folder; :func:`list_inputs` lists the files of a
folder that have a known suffix. For a file, the output is a file; for a
folder, the output is a folder that gets one file per input, named after
it (:func:`segmentation_outputs`, :func:`detection_outputs`,
:func:`video_outputs`). Every plan is
checked before any model is built: an output that is a file where a folder
is needed, a folder given a file's name, or two inputs that would write
the same file are refused.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from .video import VIDEO_CODECS

IMAGE_SUFFIXES = ('.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp')
VIDEO_SUFFIXES = ('.avi', '.mkv', '.mov', '.mp4', '.webm')
#: Where outputs go when no ``out_file`` is given.
DEFAULT_OUT_DIR = 'outputs'
LABEL_MAP_SUFFIX = '_label.png'
PREDICTIONS_SUFFIX = '.json'


def list_inputs(path: str, suffixes: Sequence[str]) -> List[str]:
    """The file ``path``, or the files of the folder ``path``.

    Args:
        path (str): A file, or a folder.
        suffixes (Sequence[str]): The suffixes of the files to take from a
            folder (lower case; compared case-insensitively).

    Returns:
        list[str]: ``[path]`` for a file; the folder's files with one of
        ``suffixes``, sorted by name.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file has none of ``suffixes`` (a config or a
            checkpoint given in its place), or the folder has no such file.
    """
    if osp.isfile(path):
        if osp.splitext(path)[1].lower() not in suffixes:
            raise ValueError(f'input {path!r} is not a file ending in '
                             f'{list(suffixes)}')
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'input {path!r} is neither a file nor a '
                                'folder')
    names = sorted(
        name for name in os.listdir(path)
        if osp.splitext(name)[1].lower() in suffixes
        and osp.isfile(osp.join(path, name)))
    if not names:
        raise ValueError(f'input folder {path!r} has no file ending in '
                         f'{list(suffixes)}')
    return [osp.join(path, name) for name in names]


def _check_unique(outputs: Sequence[str], sources: Sequence[str]) -> None:
    """Raise if two inputs would write the same output file."""
    seen: Dict[str, str] = {}
    for out, source in zip(outputs, sources):
        out = osp.abspath(out)
        if out in seen:
            raise ValueError(f'inputs {seen[out]!r} and {source!r} would '
                             f'both be written to {out!r}; rename one')
        seen[out] = source


def _folder_outputs(source: str, inputs: Sequence[str], out_dir: str,
                    suffix: str) -> List[str]:
    """``out_dir/<input name><suffix>`` for every input of folder ``source``.

    Raises:
        ValueError: If ``out_dir`` is a file, or is no folder yet and has
            a file's suffix (``out.png``): a folder would be made under
            that name.
    """
    if osp.isfile(out_dir):
        raise ValueError(f'out_file {out_dir!r} is a file, but the input '
                         f'{source!r} is a folder: give a folder')
    if not osp.isdir(out_dir) and osp.splitext(out_dir)[1]:
        raise ValueError(f'out_file {out_dir!r} is a file name, but the '
                         f'input {source!r} is a folder: give a folder '
                         '(a name without a suffix, or an existing folder)')
    return [
        osp.join(out_dir,
                 osp.splitext(osp.basename(path))[0] + suffix)
        for path in inputs
    ]


def _overlay_outputs(source: str, images: Sequence[str],
                     out_file: Optional[str],
                     beside_suffix: str) -> List[Tuple[str, str]]:
    """``(overlay, file beside it)`` per image: see
    :func:`segmentation_outputs`, the file beside an overlay being
    ``<overlay name><beside_suffix>``."""
    if osp.isdir(source):
        overlays = _folder_outputs(source, images, out_file or DEFAULT_OUT_DIR,
                                   '.png')
    else:
        overlay = out_file or osp.join(
            DEFAULT_OUT_DIR,
            osp.splitext(osp.basename(source))[0] + '.png')
        if osp.splitext(overlay)[1].lower() != '.png':
            raise ValueError(f'out_file {overlay!r} must end in .png (the '
                             'overlay is written as a PNG)')
        overlays = [overlay]
    outputs = [(overlay, osp.splitext(overlay)[0] + beside_suffix)
               for overlay in overlays]
    _check_unique([path for pair in outputs for path in pair],
                  [img for img in images for _ in range(2)])
    return outputs


def segmentation_outputs(source: str, images: Sequence[str],
                         out_file: Optional[str]) -> List[Tuple[str, str]]:
    """Where the overlay and the label map of every image go.

    For an image file, the overlay goes to ``out_file`` (default
    ``outputs/<image name>.png``); for a folder, ``out_file`` is a folder
    (default ``outputs``) that gets ``<image name>.png`` per image. The
    label map goes beside its overlay, as ``<overlay name>_label.png``.

    Args:
        source (str): The image or folder the user gave.
        images (Sequence[str]): The images, as :func:`list_inputs` lists
            them.
        out_file (str, optional): See above.

    Returns:
        list[tuple[str, str]]: ``(overlay, label map)`` per image.

    Raises:
        ValueError: If ``out_file`` is not a ``.png`` for an image, is a
            file or a file name for a folder, or two images would share an
            output.
    """
    return _overlay_outputs(source, images, out_file, LABEL_MAP_SUFFIX)


def detection_outputs(source: str, images: Sequence[str],
                      out_file: Optional[str]) -> List[Tuple[str, str]]:
    """Where the overlay and the predictions of every image go.

    The overlays go where :func:`segmentation_outputs` puts them; the
    predictions of an image go beside its overlay, as
    ``<overlay name>.json``.

    Returns:
        list[tuple[str, str]]: ``(overlay, predictions)`` per image.

    Raises:
        ValueError: As :func:`segmentation_outputs`.
    """
    return _overlay_outputs(source, images, out_file, PREDICTIONS_SUFFIX)


def video_outputs(source: str, videos: Sequence[str],
                  out_file: str) -> List[str]:
    """Where the drawn copy of every video goes.

    For a video file, ``out_file`` itself (``.mp4`` or ``.avi``); for a
    folder, ``out_file`` is a folder that gets ``<video name>.mp4`` per
    video.

    Raises:
        ValueError: If the suffix has no known codec, ``out_file`` is a file
            or a file name for a folder, or two videos would share an
            output.
    """
    if osp.isdir(source):
        outputs = _folder_outputs(source, videos, out_file, '.mp4')
    else:
        suffix = osp.splitext(out_file)[1].lower()
        if suffix not in VIDEO_CODECS:
            raise ValueError(f'out_file {out_file!r}: allowed suffixes are '
                             f'{sorted(VIDEO_CODECS)}')
        outputs = [out_file]
    _check_unique(outputs, videos)
    return outputs


def classification_output(out_file: Optional[str]) -> Optional[str]:
    """Where the predictions of a classification run go: ``out_file``, a
    JSON file for all inputs, or None for nowhere.

    Raises:
        ValueError: If ``out_file`` does not end in ``.json``.
    """
    if out_file is not None and osp.splitext(out_file)[1] != '.json':
        raise ValueError(f'out_file {out_file!r} must end in .json for a '
                         'classification config')
    return out_file
