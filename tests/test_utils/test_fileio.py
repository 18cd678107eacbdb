# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.utils.fileio: files written whole or not at all, and the
partial files a killed write leaves."""
import os
from pathlib import Path

import pytest

from glore_mm.utils.fileio import (atomic_output, atomic_write,
                                   remove_partial_files)


def test_atomic_write(tmp_path):
    path = tmp_path / 'sub' / 'file.bin'
    atomic_write(b'old', path)
    atomic_write('new', path)
    assert path.read_bytes() == b'new'
    assert sorted(p.name for p in path.parent.iterdir()) == ['file.bin']


def test_remove_partial_files(tmp_path):
    keep = ['iter_4.pth', '.hidden', 'x.partial', '.a.pth.12.part']
    remove = ['.iter_8.pth.123.partial', '.last_checkpoint.9.partial']
    for name in keep + remove:
        (tmp_path / name).write_bytes(b'x')
    removed = remove_partial_files(str(tmp_path))
    assert sorted(Path(p).name for p in removed) == sorted(remove)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)
    assert remove_partial_files(str(tmp_path / 'missing')) == []


def test_atomic_output_renames_on_success_only(tmp_path):
    path = tmp_path / 'out' / 'overlay.png'
    with atomic_output(str(path)) as tmp:
        assert tmp.endswith('.png') and os.path.dirname(tmp) == str(
            path.parent)
        assert not path.exists()
        with open(tmp, 'w') as f:
            f.write('done')
    assert path.read_text() == 'done'
    with pytest.raises(RuntimeError):
        with atomic_output(str(path)) as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise RuntimeError('interrupted')
    assert path.read_text() == 'done'
    assert sorted(p.name for p in path.parent.iterdir()) == ['overlay.png']
