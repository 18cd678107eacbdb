# Copyright (c) glore_mm contributors. All rights reserved.
"""Small real Fashion-MNIST IDX files for the converter and runner tests,
and what the converter tests share."""
import gzip
import struct
from pathlib import Path
from typing import Dict, List, Mapping

import numpy as np

#: IDX magic numbers: unsigned bytes in 3 (images) or 1 (labels) dimensions.
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """The IDX format: big-endian magic and dimensions, then the bytes."""
    header = struct.pack(f'>{1 + array.ndim}I', magic, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def magic_of(name: str) -> int:
    """The IDX magic of a Fashion-MNIST file name."""
    return IMAGE_MAGIC if 'images' in name else LABEL_MAGIC


def fashion_arrays(counts: Mapping[str, int],
                   seed: int = 0) -> Dict[str, np.ndarray]:
    """Random 28x28 images and shuffled labels cycling through 0-9.

    Args:
        counts (Mapping[str, int]): Images per split (``'train'``,
            ``'t10k'``).
        seed (int): Seed of the pixels and of the label order.

    Returns:
        dict[str, np.ndarray]: File name (without ``.gz``) -> uint8 array.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count in counts.items():
        arrays[f'{split}-images-idx3-ubyte'] = rng.integers(
            0, 256, (count, 28, 28), dtype=np.uint8)
        arrays[f'{split}-labels-idx1-ubyte'] = rng.permutation(
            np.arange(count) % 10).astype(np.uint8)
    return arrays


def split_brightness_arrays(counts: Mapping[str, int],
                            seed: int) -> Dict[str, np.ndarray]:
    """:func:`fashion_arrays` whose splits differ in brightness: train
    items are dim (<= 127), test items bright (>= 128), so a converted set
    shows which split each item came from."""
    arrays = fashion_arrays(counts, seed)
    arrays['train-images-idx3-ubyte'] //= 2
    arrays['t10k-images-idx3-ubyte'] = 128 + (
        arrays['t10k-images-idx3-ubyte'] // 2)
    return arrays


def tool_args(settings: Mapping) -> List:
    """The command-line options of a converter's keyword ``settings``."""
    args = []
    for key, value in settings.items():
        values = value if isinstance(value, tuple) else (value, )
        args += [f"--{key.replace('_', '-')}", *values]
    return args


def tree_files(root: Path) -> Dict[str, bytes]:
    """Relative path -> bytes of every file below ``root``."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob('*')) if p.is_file()
    }


def write_fashion_src(root: Path, arrays: Mapping[str, np.ndarray],
                      **override: bytes) -> Path:
    """Write ``{name}.gz`` for every array; ``override`` replaces bytes."""
    root.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = override.get(name, idx_bytes(array, magic_of(name)))
        (root / f'{name}.gz').write_bytes(gzip.compress(data))
    return root


def write_fashion_idx(root: Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write every array uncompressed, as a converted folder holds them."""
    root.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        (root / name).write_bytes(idx_bytes(array, magic_of(name)))
    return root
