# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.datasets.fashion_mnist: the checks of the IDX files (the
converter on user files and the refusals it prints: tests/test_tools)."""
import struct

import numpy as np
import pytest

from glore_mm.datasets import fashion_mnist
from tests.dataset_files import FASHION_COUNTS
from tests.fashion_mnist_files import fashion_arrays, write_fashion_src


def test_fashion_mnist_refuses_a_file_that_is_not_gzip(tmp_path):
    src = write_fashion_src(tmp_path / 'src', fashion_arrays(FASHION_COUNTS))
    (src / 't10k-labels-idx1-ubyte.gz').write_bytes(b'not gzip')
    with pytest.raises(
            ValueError,
            match='t10k-labels-idx1-ubyte.gz: not a complete gzip'):
        fashion_mnist.convert(str(src), str(tmp_path / 'out'))


def test_fashion_mnist_converter_checks(tmp_path):
    """The Debian release's checks: shapes and SHA-256."""
    with pytest.raises(FileNotFoundError, match='dataset-fashion-mnist'):
        fashion_mnist.convert(str(tmp_path / 'nowhere'), str(tmp_path / 'o'))
    assert fashion_mnist.missing_sources(
        str(tmp_path)) == [f'{name}.gz' for name in fashion_mnist.FILES]
    labels = np.arange(10000, dtype=np.uint8) % 10
    data = struct.pack('>2I', 2049, 10000) + labels.tobytes()
    with pytest.raises(ValueError, match='SHA-256'):
        fashion_mnist.check_idx('t10k-labels-idx1-ubyte', data)
    np.testing.assert_array_equal(
        fashion_mnist.check_idx(
            't10k-labels-idx1-ubyte', data, checksum=False), labels)
    with pytest.raises(ValueError, match='magic 2049 shape'):
        fashion_mnist.check_idx('t10k-images-idx3-ubyte', data)
    with pytest.raises(ValueError, match='label 12 out of range'):
        fashion_mnist.check_idx('t10k-labels-idx1-ubyte', data[:-1] + b'\x0c')
    # with the checksum the Debian release's shape is required
    small = struct.pack('>2I', 2049, 10) + labels[:10].tobytes()
    with pytest.raises(
            ValueError, match=r'expected magic 2049 shape '
            r'\(10000,\)'):
        fashion_mnist.check_idx('t10k-labels-idx1-ubyte', small)


@pytest.mark.skipif(
    bool(fashion_mnist.missing_sources()),
    reason='Debian package dataset-fashion-mnist not installed')
def test_fashion_mnist_converter_debian(tmp_path):
    out = tmp_path / 'fashion_mnist'
    counts = fashion_mnist.convert(fashion_mnist.DEBIAN_DIR, str(out))
    assert counts == {'train': 60000, 't10k': 10000}
    assert sorted(p.name for p in out.iterdir()) == sorted(fashion_mnist.FILES)
    with pytest.raises(FileExistsError):
        fashion_mnist.convert(fashion_mnist.DEBIAN_DIR, str(out))
