# Copyright (c) glore_mm contributors. All rights reserved.
"""demo/image_demo.py with a detection config: mmdet's DetInferencer draws
the detections on every image and gives every prediction, which must be
those tools/test.py dumps for the same checkpoint and images."""
import json
import pickle
import sys

import numpy as np
import pytest
from PIL import Image

from glore_mm.apis import prepare_images
from glore_mm.datasets.fashion_mnist_detection import CLASSES
from tests.test_mmdet.det_runs import DET_CONFIG, dense_masks
from tests.tool_runner import REPO, run_tool, tool_env

IMAGE_DEMO = REPO / 'demo' / 'image_demo.py'


def test_detection_folder_matches_test_tool(det_base, det_data, det_trained,
                                            det_tested):
    with open(det_tested.predictions, 'rb') as f:
        reference = {
            p['img_path']: p['pred_instances']
            for p in pickle.load(f)
        }
    out_dir = det_base / 'demo_out'
    images = sorted((det_data / 'val').glob('*.png'))
    result = run_tool([
        sys.executable, IMAGE_DEMO, det_data / 'val', DET_CONFIG,
        det_trained.checkpoint, '--out-file', out_dir, '--score-thr', 0.0
    ],
                      cwd=det_base,
                      env=tool_env(OMP_NUM_THREADS='1'))
    for image in images:
        assert str(image) in result.stdout
        with Image.open(out_dir / f'{image.stem}.png') as overlay:
            assert overlay.size == (96, 96) and overlay.mode == 'RGB'
        saved = json.loads((out_dir / f'{image.stem}.json').read_text())
        assert saved['source'] == str(image)
        assert saved['score_thr'] == 0.0
        assert saved['label_names'] == [CLASSES[i] for i in saved['labels']]
        expected = reference[str(image)]
        assert saved['labels'] == np.asarray(expected['labels']).tolist()
        np.testing.assert_allclose(
            saved['scores'], np.asarray(expected['scores']), rtol=1e-5)
        np.testing.assert_allclose(
            saved['bboxes'],
            np.asarray(expected['bboxes']),
            rtol=1e-4,
            atol=1e-3)
        assert np.array_equal(
            dense_masks(saved['masks'], (96, 96)),
            dense_masks(expected['masks'], (96, 96)))
        drawn = len(saved['scores'])
        assert f'({drawn} detections drawn)' in result.stdout


def test_detection_run_refuses_a_bad_score_threshold(det_data, det_trained):
    """Checked before any model is built (the demo reports it through
    argparse's error, exit 2, as every refusal of prepare_images)."""
    with pytest.raises(
            ValueError, match=r'score_thr must be in \[0, 1\], but got 1.5'):
        prepare_images(
            str(det_data / 'val'),
            str(DET_CONFIG),
            str(det_trained.checkpoint),
            score_thr=1.5)
