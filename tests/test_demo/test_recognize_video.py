# Copyright (c) glore_mm contributors. All rights reserved.
"""demo/recognize_video.sh end to end, shrunk to one epoch: from no data to
the top-5 printout and the annotated clip, with the demo config and the
label file the repository ships."""
import sys
from pathlib import Path

import numpy as np

from glore_mm.apis import load_config
from glore_mm.datasets.tiny_kinetics import SOURCES
from tests.test_demo.demo_runs import parse_top_k
from tests.tool_runner import REPO, log_text, run_tool, tool_env

SCRIPT = REPO / 'demo' / 'recognize_video.sh'
LABEL_FILE = REPO / 'demo' / 'tiny_kinetics_labels.txt'
CONFIG = (
    REPO / 'configs' / 'mmaction' /
    'c2d_r18-glore-res4x1_1xb4-8x4x1-30e_tiny-kinetics400-rgb.py')


def test_label_file_names_the_classes_of_the_tree():
    """One name per class of the tiny Kinetics tree, in label order, as
    many as the demo model has."""
    names = LABEL_FILE.read_text().splitlines()
    assert names == [name for name, _ in SOURCES]
    cfg = load_config(str(CONFIG), import_custom_modules=False)
    assert cfg.model.cls_head.num_classes == len(names)


def _frames(video: Path) -> np.ndarray:
    import decord
    reader = decord.VideoReader(str(video))
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def test_recognize_video_from_nothing(tmp_path):
    data, work_dir = tmp_path / 'tiny_kinetics400', tmp_path / 'work'
    out = tmp_path / 'outputs' / 'recognized.mp4'
    # the script passes its arguments on to tools/train.py: mmaction's
    result = run_tool(['bash', SCRIPT, '--auto-scale-lr', '--seed', '3'],
                      cwd=tmp_path,
                      env=tool_env(
                          PYTHON=sys.executable,
                          DATA=str(data),
                          WORK_DIR=str(work_dir),
                          MAX_EPOCHS='1',
                          OUT=str(out),
                          OMP_NUM_THREADS='1'))
    # the tree was written, then one epoch trained and validated
    first = (data / 'kinetics400_val_list_videos.txt').read_text().split()
    video = data / 'videos_val' / first[0]
    assert first[1] == '0'
    log = log_text(work_dir)
    assert 'Epoch(train) [1][3/3]' in log
    assert 'Epoch(val) [1][3/3]    acc/top1: ' in log
    assert 'seed: 3' in log
    assert ('LR is set based on batch size of 4 and the current batch size '
            'is 4. Scaling the original LR by 1.0.') in log
    # every unit has fewer nodes than positions
    assert 'redundant' not in result.stdout + result.stderr
    # the top 5 of 3 classes: all of them, named by the label file
    printed = parse_top_k(result.stdout)
    assert list(printed) == [str(video)]
    names = [name for name, _ in SOURCES]
    lines = printed[str(video)]
    assert sorted(label for label, _, _ in lines) == [0, 1, 2]
    assert all(name == names[label] for label, name, _ in lines)
    scores = [score for _, _, score in lines]
    assert scores == sorted(scores, reverse=True)
    assert abs(sum(scores) - 1) < 1e-4  # the model's probabilities
    # the annotated clip: every frame of the source, at its size
    source, drawn = _frames(video), _frames(out)
    assert drawn.shape == source.shape
    assert not np.array_equal(drawn, source)
