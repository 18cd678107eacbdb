# Copyright (c) glore_mm contributors. All rights reserved.
"""Fashion-MNIST for mmpretrain's ``FashionMNIST`` dataset.

The images come from Debian's ``dataset-fashion-mnist`` package (MIT
licence), which installs the four gzipped IDX files of
https://github.com/zalandoresearch/fashion-mnist::

    apt-get update && apt-get install -y dataset-fashion-mnist

mmpretrain's ``FashionMNIST`` reads the *uncompressed* files
(``train-images-idx3-ubyte``...) from its ``data_root`` and would try to
download them otherwise. :func:`convert` decompresses the four files of a
source folder into an output folder, checks their IDX headers (the magic
number of unsigned bytes in 3 or 1 dimensions, 28x28 images, as many labels
as images, labels 0-9, the file sizes the headers imply) and publishes the
folder atomically. The files of the Debian package are moreover checked
against the 60,000 + 10,000 images of the release and the SHA-256 of every
decompressed file; another source folder may hold any number of images.

Note: mmpretrain 1.2.0's ``FashionMNIST`` picks the file pair by
``test_mode``, not by ``split``: a test set needs ``test_mode=True``.

The command line is ``tools/dataset_converters/fashion_mnist.py``.
"""
import gzip
import hashlib
import os.path as osp
import struct
from typing import Dict, List, Optional, Tuple

import numpy as np

from glore_mm.utils import atomic_write
from .utils import check_empty_or_overwrite, staged_dir

#: Where ``dataset-fashion-mnist`` installs the files.
DEBIAN_DIR = '/usr/share/datasets/fashion-mnist'
DEBIAN_PACKAGE = 'dataset-fashion-mnist'
#: name (without .gz) -> (SHA-256 of the decompressed file, IDX magic,
#: shape). Measured on Debian's dataset-fashion-mnist
#: 0.0~git20200523.55506a9-1.
FILES: Dict[str, Tuple[str, int, Tuple[int, ...]]] = {
    'train-images-idx3-ubyte':
    ('c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888', 2051,
     (60000, 28, 28)),
    'train-labels-idx1-ubyte':
    ('bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9', 2049,
     (60000, )),
    't10k-images-idx3-ubyte':
    ('5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b', 2051,
     (10000, 28, 28)),
    't10k-labels-idx1-ubyte':
    ('0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34', 2049,
     (10000, )),
}
#: The (images, labels) file pair of each split.
SPLITS = {
    split: (f'{split}-images-idx3-ubyte', f'{split}-labels-idx1-ubyte')
    for split in ('train', 't10k')
}
NUM_CLASSES = 10
#: IDX magic of labels: unsigned bytes (0x08) in one dimension.
LABEL_MAGIC = 2049


def missing_sources(src_dir: str = DEBIAN_DIR) -> List[str]:
    """The gzipped files of :data:`FILES` that ``src_dir`` lacks.

    Args:
        src_dir (str): The source folder. Defaults to DEBIAN_DIR.

    Returns:
        list[str]: The missing ``<name>.gz``, in the order of FILES.
    """
    return [
        f'{name}.gz' for name in FILES
        if not osp.isfile(osp.join(src_dir, f'{name}.gz'))
    ]


def is_converted(data_root: str) -> bool:
    """Whether ``data_root`` holds the four uncompressed files."""
    return all(osp.isfile(osp.join(data_root, name)) for name in FILES)


def check_idx(name: str, data: bytes, checksum: bool = True) -> np.ndarray:
    """Check that ``data`` is the IDX file ``name`` and return its array.

    Args:
        name (str): A key of :data:`FILES`, named in the errors.
        data (bytes): The uncompressed file.
        checksum (bool): Also require the shape and the SHA-256 of the
            Debian release. Defaults to True; with False any number of
            items is accepted.

    Returns:
        np.ndarray: The uint8 images (N, 28, 28) or labels (N, ).

    Raises:
        ValueError: Naming the file and what is wrong with it.
    """
    sha256, magic, shape = FILES[name]
    header = 4 * (1 + len(shape))
    if len(data) < header:
        raise ValueError(f'{name}: {len(data)} bytes, shorter than its '
                         f'{header}-byte IDX header')
    found_magic, *found_shape = struct.unpack(f'>{1 + len(shape)}I',
                                              data[:header])
    found_shape = tuple(found_shape)
    if checksum:
        shape_ok, expected = found_shape == shape, str(shape)
    else:
        shape_ok = found_shape[0] > 0 and found_shape[1:] == shape[1:]
        expected = str(('N', *shape[1:])).replace("'", '')
    if found_magic != magic or not shape_ok:
        raise ValueError(
            f'{name}: IDX header says magic {found_magic} shape '
            f'{found_shape}, expected magic {magic} shape {expected}')
    size = header + int(np.prod(found_shape))
    if len(data) != size:
        raise ValueError(f'{name}: {len(data)} bytes, expected {size}')
    array = np.frombuffer(data, dtype=np.uint8, offset=header)
    if magic == LABEL_MAGIC and array.max() >= NUM_CLASSES:
        raise ValueError(f'{name}: label {array.max()} out of range '
                         f'0-{NUM_CLASSES - 1}')
    if checksum:
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            raise ValueError(f'{name}: SHA-256 {digest} differs from the '
                             f'expected {sha256}')
    return array.reshape(found_shape)


def read_idx(path: str) -> np.ndarray:
    """Read one uncompressed file of a converted folder.

    Args:
        path (str): ``<data_root>/<name>`` with ``name`` a key of FILES.

    Returns:
        np.ndarray: Its uint8 array, checked by :func:`check_idx` (without
        the checksum).
    """
    with open(path, 'rb') as f:
        return check_idx(osp.basename(path), f.read(), checksum=False)


def read_gzip(path: str) -> bytes:
    """Decompress ``path`` or raise ValueError naming it."""
    try:
        with gzip.open(path, 'rb') as f:
            return f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f'{path}: not a complete gzip file ({error})')


def read_split(src_dir: str, split: str,
               checksum: bool) -> Tuple[np.ndarray, np.ndarray]:
    """The images and labels of one split of a source folder.

    Args:
        src_dir (str): Folder with the gzipped files of :data:`FILES`.
        split (str): ``'train'`` or ``'t10k'`` (a key of :data:`SPLITS`).
        checksum (bool): Also require the Debian release's shapes and
            SHA-256 (see :func:`check_idx`).

    Returns:
        tuple[np.ndarray, np.ndarray]: uint8 images (N, 28, 28) and labels
        (N, ).

    Raises:
        ValueError: If a file is broken, or the two files hold different
            numbers of items.
    """
    images_name, labels_name = SPLITS[split]
    images, labels = (
        check_idx(name, read_gzip(osp.join(src_dir, f'{name}.gz')), checksum)
        for name in (images_name, labels_name))
    if len(images) != len(labels):
        raise ValueError(f'{images_name} holds {len(images)} images but '
                         f'{labels_name} {len(labels)} labels')
    return images, labels


def convert(src_dir: str,
            out_dir: str,
            overwrite: bool = False,
            checksum: Optional[bool] = None) -> Dict[str, int]:
    """Decompress and check the four files of ``src_dir`` into ``out_dir``.

    Args:
        src_dir (str): Folder with ``{train,t10k}-*-ubyte.gz``.
        out_dir (str): Output folder, published when complete.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to False.
        checksum (bool, optional): Require the Debian release's shapes and
            SHA-256 (see :func:`check_idx`). Defaults to None: only when
            ``src_dir`` is :data:`DEBIAN_DIR`.

    Returns:
        dict[str, int]: The number of images of each split (``'train'``,
        ``'t10k'``).
    """
    missing = missing_sources(src_dir)
    if missing:
        raise FileNotFoundError(
            f'{src_dir} lacks {missing}; install the Debian package '
            f'{DEBIAN_PACKAGE} (apt-get update && apt-get install -y '
            f'{DEBIAN_PACKAGE}) or pass --src with the gzipped IDX files')
    if checksum is None:
        checksum = osp.realpath(src_dir) == osp.realpath(DEBIAN_DIR)
    check_empty_or_overwrite(out_dir, overwrite)
    counts = {}
    with staged_dir(out_dir) as tmp_dir:
        for split, (images, labels) in SPLITS.items():
            sizes = []
            for name in (images, labels):
                data = read_gzip(osp.join(src_dir, f'{name}.gz'))
                sizes.append(len(check_idx(name, data, checksum)))
                atomic_write(data, osp.join(tmp_dir, name))
            if sizes[0] != sizes[1]:
                raise ValueError(f'{images} holds {sizes[0]} images but '
                                 f'{labels} {sizes[1]} labels')
            counts[split] = sizes[0]
    return counts
