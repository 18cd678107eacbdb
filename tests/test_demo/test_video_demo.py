# Copyright (c) glore_mm contributors. All rights reserved.
"""demo/video_demo.py end to end: the tiny GloRe C2D trained for one epoch
on the tiny Kinetics tree of real clips; the printed scores must be those of
``mmaction.apis.inference_recognizer``, and the drawn videos must have the
frames of their sources."""
import sys
from pathlib import Path
from typing import List

import numpy as np
import pytest
from demo_runs import parse_top_k
from tool_runner import REPO, TOOLS, run_tool, tool_env

from glore_mm.apis import infer_videos
from glore_mm.utils import allow_mmengine_checkpoints

VIDEO_DEMO = REPO / 'demo' / 'video_demo.py'
CONFIG = (
    REPO / 'tests' / 'data' / 'configs' / 'tiny_mmaction' /
    'c2d_r18-glore_1xb2-4x4x1-1e_tiny-kinetics400-rgb.py')
MAKE_DATA = TOOLS / 'dataset_converters' / 'make_tiny_kinetics.py'
NUM_CLASSES = 3
CLASS_NAMES = ['carphone', 'bikes', 'big buck bunny']


def _run(cmd: List, cwd: Path):
    return run_tool(cmd, cwd, tool_env(OMP_NUM_THREADS='1'))


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('demo_video')


@pytest.fixture(scope='module')
def data_root(base: Path) -> Path:
    root = base / 'tiny_kinetics400'
    _run([
        sys.executable, MAKE_DATA, root, '--num-classes', NUM_CLASSES,
        '--clips-per-class', 1, '--num-frames', 16
    ],
         cwd=base)
    return root


@pytest.fixture(scope='module')
def checkpoint(base: Path, data_root: Path) -> Path:
    """One epoch (2 iterations of 2 clips) with tools/train.py."""
    work_dir = base / 'train'
    _run([
        sys.executable, TOOLS / 'train.py', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *[
            f'{split}_dataloader.dataset.data_root={data_root}'
            for split in ('train', 'val', 'test')
        ], 'train_cfg.val_interval=2'
    ],
         cwd=base)
    return work_dir / 'epoch_1.pth'


@pytest.fixture(scope='module')
def label_file(base: Path) -> Path:
    path = base / 'labels.txt'
    path.write_text('\n'.join(CLASS_NAMES) + '\n')
    return path


def _frames(video: Path) -> np.ndarray:
    import decord
    reader = decord.VideoReader(str(video))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def test_video_folder_prints_the_model_scores(base, data_root, checkpoint,
                                              label_file):
    videos = sorted((data_root / 'videos_val').glob('*.mp4'))
    assert len(videos) == NUM_CLASSES
    out_dir = base / 'drawn'
    # mmaction's demo order: config, checkpoint, video, label file
    result = _run([
        sys.executable, VIDEO_DEMO, CONFIG, checkpoint,
        data_root / 'videos_val', label_file, '--out-file', out_dir
    ],
                  cwd=base)
    printed = parse_top_k(result.stdout)
    assert sorted(printed) == [str(v) for v in videos]

    from mmaction.apis import inference_recognizer, init_recognizer
    allow_mmengine_checkpoints()
    model = init_recognizer(str(CONFIG), str(checkpoint), device='cpu')
    for video in videos:
        scores = inference_recognizer(model, str(video)).pred_score.numpy()
        assert scores.shape == (NUM_CLASSES, )
        # top-5 of a 3-class model: all 3, best first
        order = np.argsort(-scores, kind='stable')
        assert [label for label, _, _ in printed[str(video)]] == list(order)
        assert [name for _, name, _ in printed[str(video)]
                ] == [CLASS_NAMES[i] for i in order]
        np.testing.assert_allclose([s for _, _, s in printed[str(video)]],
                                   scores[order],
                                   atol=1e-6)
        # The drawn copy: every frame, at the source's size, the label
        # box drawn in the top-left corner and the rest left alone.
        source, drawn = _frames(video), _frames(out_dir / f'{video.stem}.mp4')
        assert drawn.shape == source.shape
        corner = (slice(None), slice(0, source.shape[1] // 8),
                  slice(0, source.shape[2] // 4))
        diff = np.abs(drawn.astype(int) - source)
        assert diff[corner].mean() > 3 * diff.mean() > 0
    assert f'{NUM_CLASSES}/{NUM_CLASSES}' in result.stderr


def test_single_video_without_labels(data_root, checkpoint):
    video = sorted((data_root / 'videos_val').glob('*.mp4'))[0]
    (prediction, ) = infer_videos(
        str(video), str(CONFIG), str(checkpoint), topk=2)
    assert prediction.source == str(video)
    assert prediction.names is None
    assert len(prediction.labels) == 2
    assert prediction.scores[0] >= prediction.scores[1]


@pytest.mark.parametrize('kwargs, error, message', [
    (dict(topk=0), ValueError, 'topk must be at least 1, but got 0'),
    (dict(out_file='drawn.gif'), ValueError,
     "out_file 'drawn.gif': allowed suffixes are ['.avi', '.mp4']"),
    (dict(label_file='missing.txt'), FileNotFoundError,
     "label file 'missing.txt' is not a file"),
])
def test_bad_arguments(data_root, checkpoint, kwargs, error, message):
    video = sorted((data_root / 'videos_val').glob('*.mp4'))[0]
    with pytest.raises(error) as raised:
        infer_videos(str(video), str(CONFIG), str(checkpoint), **kwargs)
    assert message in str(raised.value)


def test_label_file_of_another_model_is_refused(base, data_root, checkpoint):
    video = sorted((data_root / 'videos_val').glob('*.mp4'))[0]
    labels = base / 'two_labels.txt'
    labels.write_text('a\nb\n')
    with pytest.raises(ValueError) as raised:
        infer_videos(
            str(video), str(CONFIG), str(checkpoint), label_file=str(labels))
    assert (f"label file '{labels}' names 2 classes, but the model has "
            f'{NUM_CLASSES}') in str(raised.value)


def _refused(cwd: Path, *args) -> str:
    """Run the demo on bad ``args``: exit 2, usage and ``error:`` on
    stderr, nothing on stdout; return stderr."""
    result = run_tool([sys.executable, VIDEO_DEMO, *args],
                      cwd,
                      tool_env(OMP_NUM_THREADS='1'),
                      ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith('usage: video_demo.py')
    assert result.stdout == ''
    return result.stderr


def test_wrong_order_is_refused(base, data_root, checkpoint):
    """The video where the config goes, as in image_demo's order."""
    video = sorted((data_root / 'videos_val').glob('*.mp4'))[0]
    stderr = _refused(base, video, CONFIG, checkpoint)
    assert (f"error: config '{video}' is not a config file: allowed "
            "suffixes are ['.json', '.py', '.yaml', '.yml']") in stderr


def test_bad_input_is_refused_before_any_video_runs(base, data_root,
                                                    checkpoint):
    folder = data_root / 'videos_val'
    stderr = _refused(base, CONFIG, checkpoint, folder, '--out-file',
                      base / 'drawn.mp4')
    assert (f"error: out_file '{base / 'drawn.mp4'}' is a file name, but the "
            f"input '{folder}' is a folder") in stderr
    assert not (base / 'drawn.mp4').exists()
    stderr = _refused(base, CONFIG, checkpoint, folder, base / 'missing.txt')
    assert f"error: label file '{base / 'missing.txt'}' is not a file" in (
        stderr)
