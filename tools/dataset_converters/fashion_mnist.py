# Copyright (c) glore_mm contributors. All rights reserved.
"""Prepare Fashion-MNIST for mmpretrain's ``FashionMNIST`` dataset.

The images come from Debian's ``dataset-fashion-mnist`` package (MIT
licence), which installs the four gzipped IDX files of
https://github.com/zalandoresearch/fashion-mnist::

    apt-get update && apt-get install -y dataset-fashion-mnist

mmpretrain's ``FashionMNIST`` reads the *uncompressed* files
(``train-images-idx3-ubyte``...) from its ``data_root`` and would try to
download them otherwise. This tool decompresses the package's files into
``OUT_DIR`` (default ``data/fashion_mnist``), checks the IDX headers (magic
number, 60,000 + 10,000 images of 28x28, labels 0-9) and the SHA-256 of every
decompressed file, and publishes the folder atomically.

Note: mmpretrain 1.2.0's ``FashionMNIST`` picks the file pair by
``test_mode``, not by ``split``: a test set needs ``test_mode=True``.

Example:
    python tools/dataset_converters/fashion_mnist.py data/fashion_mnist
"""
import argparse
import gzip
import hashlib
import os
import os.path as osp
import struct
import tempfile
from typing import Dict, Tuple

import numpy as np
from converter_utils import check_empty_or_overwrite, publish_dir

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
NUM_CLASSES = 10


def missing_sources(src_dir: str = DEBIAN_DIR) -> list:
    """The gzipped files of :data:`FILES` that ``src_dir`` lacks."""
    return [
        f'{name}.gz' for name in FILES
        if not osp.isfile(osp.join(src_dir, f'{name}.gz'))
    ]


def check_idx(name: str, data: bytes) -> None:
    """Raise ValueError unless ``data`` is the expected IDX file ``name``."""
    sha256, magic, shape = FILES[name]
    header = 4 * (1 + len(shape))
    if len(data) < header:
        raise ValueError(f'{name}: {len(data)} bytes, shorter than its '
                         f'{header}-byte IDX header')
    found = struct.unpack(f'>{1 + len(shape)}I', data[:header])
    if found[0] != magic or tuple(found[1:]) != shape:
        raise ValueError(
            f'{name}: IDX header says magic {found[0]} shape {found[1:]}, '
            f'expected magic {magic} shape {shape}')
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(f'{name}: {len(data)} bytes, expected '
                         f'{header + int(np.prod(shape))}')
    if magic == 2049:
        labels = np.frombuffer(data, dtype=np.uint8, offset=header)
        if labels.max() >= NUM_CLASSES:
            raise ValueError(f'{name}: label {labels.max()} out of range '
                             f'0-{NUM_CLASSES - 1}')
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f'{name}: SHA-256 {digest} differs from the '
                         f'expected {sha256}')


def convert(src_dir: str, out_dir: str, overwrite: bool = False) -> None:
    """Decompress and check the four files of ``src_dir`` into ``out_dir``.

    Args:
        src_dir (str): Folder with ``{train,t10k}-*-ubyte.gz``.
        out_dir (str): Output folder, published when complete.
        overwrite (bool): Replace a non-empty ``out_dir``. Defaults to False.
    """
    missing = missing_sources(src_dir)
    if missing:
        raise FileNotFoundError(
            f'{src_dir} lacks {missing}; install the Debian package '
            f'{DEBIAN_PACKAGE} (apt-get update && apt-get install -y '
            f'{DEBIAN_PACKAGE}) or pass --src with the gzipped IDX files')
    check_empty_or_overwrite(out_dir, overwrite)
    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(
        dir=parent, prefix=f'.{osp.basename(out_dir)}.tmp.')
    os.chmod(tmp_dir, 0o755)  # mkdtemp makes it private
    for name in FILES:
        with gzip.open(osp.join(src_dir, f'{name}.gz'), 'rb') as f:
            data = f.read()
        check_idx(name, data)
        with open(osp.join(tmp_dir, name), 'wb') as f:
            f.write(data)
    publish_dir(tmp_dir, out_dir)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Prepare Fashion-MNIST for mmpretrain from the Debian '
        f'package {DEBIAN_PACKAGE}')
    parser.add_argument(
        'out_dir',
        nargs='?',
        default='data/fashion_mnist',
        help='output folder (default: data/fashion_mnist)')
    parser.add_argument(
        '--src',
        default=DEBIAN_DIR,
        help=f'folder with the gzipped IDX files (default: {DEBIAN_DIR})')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace out_dir')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    convert(args.src, args.out_dir, args.overwrite)
    print(f'Fashion-MNIST written to {args.out_dir}')


if __name__ == '__main__':
    main()
