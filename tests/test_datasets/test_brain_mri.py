# Copyright (c) glore_mm contributors. All rights reserved.
"""glore_mm.datasets.brain_mri: the tissue rule and what it refuses (the
set the converter writes from the real template: tests/test_tools)."""
import os
import zipfile

import numpy as np
import pytest

from glore_mm.datasets import brain_mri


def test_tissue_labels_rule():
    gm = np.array([0.6, 0.2, 0.0, 0.3, 0.5, 0.45, 1.0])
    wm = np.array([0.3, 0.7, 0.0, 0.3, 0.5, 0.1, 0.2])
    # bg = clip(1 - gm - wm): .1, .1, 1, .4, 0, .45 (tie with gm), 0
    np.testing.assert_array_equal(
        brain_mri.tissue_labels(gm, wm), [1, 2, 0, 0, 1, 0, 1])


def test_brain_mri_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such.whl'):
        brain_mri.build_brain_mri(
            str(tmp_path / 'a'), nilearn_wheel=str(tmp_path / 'no_such.whl'))
    fake = str(tmp_path / 'fake.whl')
    with zipfile.ZipFile(fake, 'w') as wheel:
        wheel.writestr('nilearn/__init__.py', '')
    with pytest.raises(ValueError, match='fake.whl.*mni_icbm152_t1'):
        brain_mri.build_brain_mri(str(tmp_path / 'a'), nilearn_wheel=fake)
    with pytest.raises(ValueError, match='val_every'):
        brain_mri.build_brain_mri(str(tmp_path / 'a'), val_every=1)
    with pytest.raises(ValueError, match='size'):
        brain_mri.build_brain_mri(str(tmp_path / 'a'), size=8)
    (tmp_path / 'full').mkdir()
    (tmp_path / 'full' / 'x').write_text('')
    with pytest.raises(FileExistsError, match='full'):
        brain_mri.build_brain_mri(str(tmp_path / 'full'), nilearn_wheel=fake)
    assert sorted(os.listdir(tmp_path)) == ['fake.whl', 'full']
