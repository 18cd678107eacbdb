# Copyright (c) glore_mm contributors. All rights reserved.
"""demo/video_demo.py end to end: the session's tiny GloRe C2D
(``c2d_trained``, one epoch on two gloo ranks) on the tiny Kinetics tree of
real clips; the printed scores must be those of
``mmaction.apis.inference_recognizer``, and the drawn videos must have the
frames of their sources. What :func:`glore_mm.apis.infer_videos` does
without the demo: tests/test_apis/test_inference.py."""
import sys
from pathlib import Path
from typing import List

import numpy as np
import pytest

from glore_mm.utils import allow_mmengine_checkpoints
from tests.test_demo.demo_runs import parse_top_k
from tests.tiny_runs import NUM_CLASSES, NUM_VIDEOS, VIDEO_CONFIGS
from tests.tool_runner import REPO, run_tool, tool_env

VIDEO_DEMO = REPO / 'demo' / 'video_demo.py'
CONFIG = VIDEO_CONFIGS['c2d']
CLASS_NAMES = ['carphone', 'bikes', 'big buck bunny']


def _run(cmd: List, cwd: Path):
    return run_tool(cmd, cwd, tool_env(OMP_NUM_THREADS='1'))


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp('demo_video')


@pytest.fixture(scope='module')
def label_file(base: Path) -> Path:
    path = base / 'labels.txt'
    path.write_text('\n'.join(CLASS_NAMES) + '\n')
    return path


def _frames(video: Path) -> np.ndarray:
    import decord
    reader = decord.VideoReader(str(video))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def test_video_folder_prints_the_model_scores(base, kinetics, c2d_trained,
                                              label_file):
    checkpoint = c2d_trained.checkpoint
    videos = sorted((kinetics / 'videos_val').glob('*.mp4'))
    assert len(videos) == NUM_VIDEOS
    out_dir = base / 'drawn'
    # mmaction's demo order: config, checkpoint, video, label file
    result = _run([
        sys.executable, VIDEO_DEMO, CONFIG, checkpoint,
        kinetics / 'videos_val', label_file, '--out-file', out_dir
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
    assert f'{NUM_VIDEOS}/{NUM_VIDEOS}' in result.stderr


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


def test_wrong_order_is_refused(base, kinetics, c2d_trained):
    """The video where the config goes, as in image_demo's order."""
    video = sorted((kinetics / 'videos_val').glob('*.mp4'))[0]
    stderr = _refused(base, video, CONFIG, c2d_trained.checkpoint)
    assert (f"error: config '{video}' is not a config file: allowed "
            "suffixes are ['.json', '.py', '.yaml', '.yml']") in stderr


def test_bad_input_is_refused_before_any_video_runs(base, kinetics,
                                                    c2d_trained):
    checkpoint = c2d_trained.checkpoint
    folder = kinetics / 'videos_val'
    stderr = _refused(base, CONFIG, checkpoint, folder, '--out-file',
                      base / 'drawn.mp4')
    assert (f"error: out_file '{base / 'drawn.mp4'}' is a file name, but the "
            f"input '{folder}' is a folder") in stderr
    assert not (base / 'drawn.mp4').exists()
    stderr = _refused(base, CONFIG, checkpoint, folder, base / 'missing.txt')
    assert f"error: label file '{base / 'missing.txt'}' is not a file" in (
        stderr)
