# Copyright (c) glore_mm contributors. All rights reserved.
"""Files that are all there or not there.

Every file glore_mm writes (checkpoints, reports, tables, plots, label
maps, exported graphs) goes to a temporary name in its final folder and is
renamed over the final name with ``os.replace``, which replaces the old
file in one step: a process killed at any point leaves the old file or the
new one, never half of one. Temporary files are named
``.<final name>.<pid>.partial`` (:func:`atomic_write`) or
``.<stem>.<random><suffix>`` (:func:`atomic_output`, for writers that pick
the format by the suffix).
"""
import io
import os
import os.path as osp
import re
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator, List, Union

import cv2
import numpy as np

#: Suffix of the temporary files of :func:`atomic_write`.
PARTIAL_SUFFIX = '.partial'
_PARTIAL_NAME = re.compile(r'^\..+\.\d+' + re.escape(PARTIAL_SUFFIX) + '$')


def _fsync_dir(dirname: str) -> None:
    """Flush a folder's entries (a rename) to disk, where POSIX allows."""
    if not hasattr(os, 'O_DIRECTORY'):
        return
    fd = os.open(dirname, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(data: Union[bytes, str],
                 filepath: Union[str, os.PathLike]) -> None:
    """Write ``data`` to ``filepath`` so that it is all there or not there.

    The data goes to ``.<name>.<pid>.partial`` in the same folder, is
    flushed to disk with ``fsync`` and renamed over ``filepath`` with
    ``os.replace``. Killed at any point, the process leaves either the old
    ``filepath`` or the new one, and at most a ``.partial`` file besides
    (:func:`remove_partial_files` deletes those).

    Args:
        data (bytes | str): What to write; a str is written as UTF-8.
        filepath (str | os.PathLike): The file to write; its folder is
            created if needed.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    filepath = os.fspath(filepath)
    dirname = osp.dirname(osp.abspath(filepath))
    os.makedirs(dirname, exist_ok=True)
    partial = osp.join(
        dirname, f'.{osp.basename(filepath)}.{os.getpid()}{PARTIAL_SUFFIX}')
    try:
        with open(partial, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, filepath)
    except BaseException:
        if osp.lexists(partial):
            os.remove(partial)
        raise
    _fsync_dir(dirname)


def remove_partial_files(dirname: str) -> List[str]:
    """Delete the ``.partial`` files that interrupted writes left.

    Args:
        dirname (str): The folder to clean; a missing folder is fine.

    Returns:
        list[str]: The deleted files.
    """
    if not osp.isdir(dirname):
        return []
    removed = []
    for name in sorted(os.listdir(dirname)):
        path = osp.join(dirname, name)
        if _PARTIAL_NAME.match(name) and osp.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed


@contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """A temporary file beside ``path``, renamed to ``path`` on success.

    For writers that take a file name rather than bytes (PIL, OpenCV's
    video writer, ``onnx.save``). The temporary file keeps ``path``'s
    suffix, for writers that choose the format by it. If the body raises,
    it is removed and ``path`` is left as it was.

    Args:
        path (str): The file to write.

    Yields:
        str: The temporary file to write to.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, suffix = osp.splitext(osp.basename(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{stem}.', suffix=suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield tmp
        # mkstemp creates the file for its owner only
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_png(path: str, image: np.ndarray, rgb: bool = False) -> None:
    """Write an 8-bit image as a PNG through :func:`atomic_write`.

    Every PNG glore_mm writes (datasets, label maps, overlays) goes through
    this.

    Args:
        path (str): Destination file; its folder is created if needed.
        image (np.ndarray): ``H x W`` (grey) or ``H x W x 3``, values in
            0..255 (any integer or float dtype).
        rgb (bool): The channels of a colour image are in RGB order (PIL,
            matplotlib, the OpenMMLab visualizers); otherwise BGR, as
            OpenCV reads them. Defaults to False.

    Raises:
        ValueError: If a value does not fit in 8 bits.
    """
    if image.size and (image.min() < 0 or image.max() > 255):
        raise ValueError(f'{path}: values {image.min()}..{image.max()} do '
                         'not fit in an 8-bit PNG')
    image = image.astype(np.uint8, copy=False)
    if rgb and image.ndim == 3:
        image = np.ascontiguousarray(image[..., ::-1])
    ok, buffer = cv2.imencode('.png', image)
    if not ok:
        raise OSError(f'could not encode a PNG for {path}')
    atomic_write(buffer.tobytes(), path)


def save_figure(fig: Any, path: str, **savefig_kwargs) -> None:
    """Save a matplotlib figure as a PNG through :func:`atomic_write`.

    Args:
        fig (matplotlib.figure.Figure): The figure.
        path (str): The PNG to write.
        **savefig_kwargs: For ``fig.savefig`` (``dpi``, ``bbox_inches``).
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', **savefig_kwargs)
    atomic_write(buffer.getvalue(), path)
