# Copyright (c) glore_mm contributors. All rights reserved.
"""tools/experiments/run.py in --quick mode on small generated data: the
runs train through tools/train.py, and the report, its tables and its
plots are written from the logged numbers."""
import importlib.util
import json
import re
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).parents[2]


def _load_runner():
    path = REPO / 'tools' / 'experiments' / 'run.py'
    spec = importlib.util.spec_from_file_location('experiments_run', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


def _write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(f'>{1 + array.ndim}I', magic, *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope='module')
def fashion_mnist(tmp_path_factory) -> Path:
    """Fashion-MNIST's four IDX files, 96 train and 100 test images."""
    root = tmp_path_factory.mktemp('fashion_mnist')
    rng = np.random.default_rng(0)
    for prefix, count in (('train', 96), ('t10k', 100)):
        labels = np.arange(count) % 10
        images = rng.integers(0, 60, (count, 28, 28))
        for i, label in enumerate(labels):  # a class-dependent bar
            images[i, 4:24, 2 * label + 3:2 * label + 8] = 220
        _write_idx(root / f'{prefix}-images-idx3-ubyte', images, 2051)
        _write_idx(root / f'{prefix}-labels-idx1-ubyte', labels, 2049)
    return root


@pytest.fixture(scope='module')
def brain_mri(tmp_path_factory) -> Path:
    """mmseg's layout of BrainMRIDataset, 4 train and 2 val 64x64 slices."""
    root = tmp_path_factory.mktemp('brain_mri')
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :64]
    for split, count in (('train', 4), ('val', 2)):
        for sub in ('img_dir', 'ann_dir'):
            (root / sub / split).mkdir(parents=True)
        for i in range(count):
            radius = ((yy - 32)**2 + (xx - 32)**2)**0.5
            label = np.where(radius < 14 + i, 2, 0)
            label = np.where((radius >= 14 + i) & (radius < 24), 1, label)
            image = np.choose(label, [10, 120, 220]) + rng.integers(
                0, 20, label.shape)
            name = f'mni152_z{i:03d}.png'
            cv2.imwrite(
                str(root / 'img_dir' / split / name), image.astype(np.uint8))
            cv2.imwrite(
                str(root / 'ann_dir' / split / name), label.astype(np.uint8))
    return root


def _section(doc: str, name: str) -> str:
    begin, end = runner.markers(name)
    assert doc.count(begin) == 1 and doc.count(end) == 1
    return doc.split(begin)[1].split(end)[0]


def _results(work_dir: Path, variant: str) -> list:
    files = sorted((work_dir / variant).glob('seed*/result.json'))
    return [json.loads(f.read_text()) for f in files]


def _check_table_row(section: str, label: str, results: list) -> None:
    """The row of ``label`` shows the logged metrics, in seed order."""
    row = next(line for line in section.splitlines()
               if line.startswith(f'| {label} |'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells[1] == ' / '.join(f'{r["metric"]:.2f}' for r in results)
    metrics = np.array([r['metric'] for r in results])
    expected = (f'{metrics.mean():.2f} ± {metrics.std(ddof=1):.2f}'
                if len(metrics) > 1 else f'{metrics.mean():.2f}')
    assert cells[2] == expected
    early = np.mean([r['loss'][0] for r in results])
    assert re.match(r'^\d+\.\d\d', cells[3])
    assert abs(float(cells[3].split()[0]) - early) < 0.5


def _check_png(path: Path) -> None:
    image = cv2.imread(str(path))
    assert image is not None and image.shape[0] > 50 and image.std() > 0


def test_fashion_mnist_quick(tmp_path, fashion_mnist):
    doc = tmp_path / 'docs' / 'experiments.md'
    doc.parent.mkdir()
    doc.write_text('# Experiments\n\nHand-written intro, kept.\n')
    images = tmp_path / 'docs' / 'images'
    work_dir = tmp_path / 'work'
    argv = [
        'fashion_mnist', '--quick', '--seeds', '0', '1', '--variants',
        'res3x1', 'res4x1_nozeroinit', '--data-root',
        str(fashion_mnist), '--doc',
        str(doc), '--images',
        str(images), '--work-dir',
        str(work_dir)
    ]
    runner.main(argv)
    text = doc.read_text()
    assert 'Hand-written intro, kept.' in text
    section = _section(text, 'fashion_mnist')
    for variant in runner.FASHION_MNIST.variants[1::2]:
        results = _results(work_dir, variant.key)
        assert [r['seed'] for r in results] == [0, 1]
        assert all(r['checkpoint'].endswith('epoch_1.pth') for r in results)
        _check_table_row(section, variant.label, results)
    # the gate table: exactly 0 at init with the gate is not shown here;
    # without it the branch is as large as a normalised map
    row = next(line for line in section.splitlines()
               if line.startswith('| +1 GloRe after res4, no zero-init'))
    assert float(row.split('|')[2].split()[0]) > 0.1
    assert '![training loss](images/experiments_fashion_mnist_loss.png)' \
        in section
    assert '![projection](images/vis_fashion_mnist_projection.png)' \
        in section
    assert 'Quick mode' in section and 'torch' in section
    _check_png(images / 'experiments_fashion_mnist_loss.png')
    _check_png(images / 'vis_fashion_mnist_projection.png')

    # a rerun reuses the runs and replaces the section in place
    stamp = (work_dir / 'res3x1/seed0/result.json').stat().st_mtime
    runner.main(argv)
    assert (work_dir / 'res3x1/seed0/result.json').stat().st_mtime == stamp
    rerun = doc.read_text()
    assert _section(rerun, 'fashion_mnist').split('### Machine')[0] == \
        section.split('### Machine')[0]
    assert rerun.startswith('# Experiments\n\nHand-written intro, kept.\n')

    # --force retrains and records whether the run reproduced itself
    forced = argv[:4] + ['--variants', 'res3x1', '--force'] + argv[8:]
    runner.main(forced)
    result = _results(work_dir, 'res3x1')[0]
    assert set(result['rerun_of']) >= {'metric', 'same_metric', 'same_loss'}
    assert ('seed 0: retrained with `--force`'
            in _section(doc.read_text(), 'fashion_mnist'))


def test_brain_mri_quick(tmp_path, brain_mri):
    doc = tmp_path / 'experiments.md'
    images = tmp_path / 'images'
    work_dir = tmp_path / 'work'
    runner.main([
        'brain_mri', '--quick', '--seeds', '0', '--data-root',
        str(brain_mri), '--doc',
        str(doc), '--images',
        str(images), '--work-dir',
        str(work_dir)
    ])
    section = _section(doc.read_text(), 'brain_mri')
    for variant in runner.BRAIN_MRI.variants:
        _check_table_row(section, variant.label,
                         _results(work_dir, variant.key))
    assert 'FCN + GloRe head (GloReHead): ' in section  # the comparison
    _check_png(images / 'experiments_brain_mri_loss.png')
    _check_png(images / 'vis_brain_mri_projection.png')


def test_missing_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.setattr(runner.fm_converter, 'DEBIAN_DIR',
                        str(tmp_path / 'nowhere'))
    with pytest.raises(SystemExit, match='dataset-fashion-mnist'):
        runner.prepare_fashion_mnist(str(tmp_path / 'fm'))


def test_fashion_mnist_converter_checks(tmp_path):
    converter = runner.fm_converter
    with pytest.raises(FileNotFoundError, match='dataset-fashion-mnist'):
        converter.convert(str(tmp_path / 'nowhere'), str(tmp_path / 'out'))
    labels = np.arange(10000, dtype=np.uint8) % 10
    data = struct.pack('>2I', 2049, 10000) + labels.tobytes()
    with pytest.raises(ValueError, match='SHA-256'):
        converter.check_idx('t10k-labels-idx1-ubyte', data)
    with pytest.raises(ValueError, match='magic 2049 shape'):
        converter.check_idx('t10k-images-idx3-ubyte', data)
    with pytest.raises(ValueError, match='label 12 out of range'):
        converter.check_idx('t10k-labels-idx1-ubyte', data[:-1] + b'\x0c')


@pytest.mark.skipif(
    not Path(runner.fm_converter.DEBIAN_DIR).is_dir(),
    reason='Debian package dataset-fashion-mnist not installed')
def test_fashion_mnist_converter_debian(tmp_path):
    out = tmp_path / 'fashion_mnist'
    runner.fm_converter.convert(runner.fm_converter.DEBIAN_DIR, str(out))
    assert sorted(p.name
                  for p in out.iterdir()) == sorted(runner.fm_converter.FILES)
    with pytest.raises(FileExistsError):
        runner.fm_converter.convert(runner.fm_converter.DEBIAN_DIR, str(out))
