# Copyright (c) glore_mm contributors. All rights reserved.
"""demo/image_demo.py end to end, on checkpoints trained here.

Segmentation: the session's tiny GloRe FCN (``seg_trained``, trained with
``mim train``) on the tiny Cityscapes val folder; the label maps must equal
the predictions of tools/test.py and of ``mmseg.apis.inference_model``, and
the overlays must be the images blended with the Cityscapes palette of
those labels. Classification: the session's tiny GloRe ResNet-50
(``cls_trained``) after one epoch on the tiny ImageNet tree; the printed
scores must be those of the model run by hand. What
:func:`glore_mm.apis.infer_images` does without the demo:
tests/test_apis/test_inference.py.
"""
import json
import sys
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch
from PIL import Image

from glore_mm.utils import allow_mmengine_checkpoints
from tests.test_demo.demo_runs import parse_top_k
from tests.tiny_runs import (CLS_CONFIG, IMAGE_SIZE, SEG_CONFIG, SegTest,
                             TrainRun)
from tests.tool_runner import REPO, run_tool, tool_env

IMAGE_DEMO = REPO / 'demo' / 'image_demo.py'
OPACITY = 0.6


def _read(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.array(img)


def _cityscapes_palette() -> np.ndarray:
    from mmseg.datasets import CityscapesDataset
    return np.array(CityscapesDataset.METAINFO['palette'], dtype=np.uint8)


@pytest.fixture(scope='module')
def seg_demo(tmp_path_factory, val_images: List[Path], seg_trained: TrainRun):
    """The demo on the val folder: (its output folder, its run)."""
    base = tmp_path_factory.mktemp('image_demo')
    out_dir = base / 'demo_out'
    result = run_tool([
        sys.executable, IMAGE_DEMO, val_images[0].parent, SEG_CONFIG,
        seg_trained.checkpoint, '--out-file', out_dir, '--opacity', OPACITY
    ],
                      cwd=base,
                      env=tool_env(OMP_NUM_THREADS='1'))
    return out_dir, result


def test_segmentation_folder_matches_test_tool(seg_demo, val_images,
                                               seg_tested: SegTest):
    out_dir, result = seg_demo
    palette = _cityscapes_palette()
    for image in val_images:
        name = image.stem
        assert str(image) in result.stdout
        overlay = _read(out_dir / f'{name}.png')
        labels = _read(out_dir / f'{name}_label.png')
        expected = _read(seg_tested.pred_dir / f'{name}.png')
        pixels = _read(image)
        assert overlay.shape == pixels.shape == (*IMAGE_SIZE, 3)
        assert labels.shape == IMAGE_SIZE and labels.dtype == np.uint8
        # The demo's label map is tools/test.py's prediction.
        np.testing.assert_array_equal(labels, expected)
        # The overlay is the image blended with each pixel's class colour.
        blend = (pixels * (1 - OPACITY) + palette[labels] * OPACITY).astype(
            np.uint8)
        assert np.abs(overlay.astype(int) - blend).max() <= 1
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        f'{image.stem}{suffix}' for image in val_images
        for suffix in ('.png', '_label.png'))
    # Progress over the folder on stderr.
    assert f'{len(val_images)}/{len(val_images)}' in result.stderr


def test_mmseg_inference_model_agrees(val_images, seg_trained, seg_demo):
    """mmseg's own API runs our config and checkpoint (whole image after
    crop training), with the classes stored in the checkpoint."""
    from mmseg.apis import inference_model, init_model
    allow_mmengine_checkpoints()
    model = init_model(
        str(SEG_CONFIG), str(seg_trained.checkpoint), device='cpu')
    assert model.cfg.model.test_cfg.mode == 'whole'
    from mmseg.datasets import CityscapesDataset
    assert tuple(model.dataset_meta['classes']) == tuple(
        CityscapesDataset.METAINFO['classes'])
    prediction = inference_model(model, str(val_images[0]))
    labels = prediction.pred_sem_seg.data[0].numpy()
    out_dir, _ = seg_demo
    demo = _read(out_dir / f'{val_images[0].stem}_label.png')
    np.testing.assert_array_equal(labels, demo)


def _refused(cwd: Path, *args) -> str:
    """Run the demo on bad ``args``: exit 2, usage and ``error:`` on
    stderr, nothing on stdout; return stderr."""
    result = run_tool([sys.executable, IMAGE_DEMO, *args],
                      cwd,
                      tool_env(OMP_NUM_THREADS='1'),
                      ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith('usage: image_demo.py')
    assert result.stdout == ''
    return result.stderr


def test_zero_opacity_is_refused_before_the_model_loads(val_images, tmp_path):
    """Refused before the checkpoint is read: this one does not exist."""
    stderr = _refused(tmp_path, val_images[0], SEG_CONFIG,
                      tmp_path / 'missing.pth', '--opacity', 0)
    assert 'error: opacity must be in (0, 1], but got 0.0' in stderr
    assert 'missing.pth' not in stderr


def test_folder_to_a_png_name_is_refused(val_images, seg_trained, tmp_path):
    folder = val_images[0].parent
    stderr = _refused(tmp_path, folder, SEG_CONFIG, seg_trained.checkpoint,
                      '--out-file', 'x.png')
    assert (f"error: out_file 'x.png' is a file name, but the input "
            f"'{folder}' is a folder: give a folder") in stderr
    assert not any(tmp_path.iterdir())


# Classification


def _scores_by_hand(images: List[Path], checkpoint: Path) -> np.ndarray:
    """The model's class probabilities, without any inferencer: the config's
    test pipeline, ``model.test_step`` on the checkpoint's weights."""
    from mmengine.config import Config
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope
    from mmengine.runner import load_checkpoint
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(CLS_CONFIG)
    # as mmengine's Runner does
    cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
        pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    allow_mmengine_checkpoints()
    load_checkpoint(model, str(checkpoint), map_location='cpu')
    model.eval()
    batch = pseudo_collate([pipeline(dict(img_path=str(p))) for p in images])
    with torch.no_grad():
        samples = model.test_step(batch)
    return np.stack([s.pred_score.numpy() for s in samples])


def test_classification_prints_the_model_scores(cls_trained: TrainRun,
                                                imagenet: Path, tmp_path):
    root, checkpoint = imagenet, cls_trained.checkpoint
    images = sorted((root / 'val').glob('*.JPEG'))
    out_json = tmp_path / 'top3.json'
    result = run_tool([
        sys.executable, IMAGE_DEMO, root / 'val', CLS_CONFIG, checkpoint,
        '--topk', 3, '--out-file', out_json
    ],
                      cwd=tmp_path,
                      env=tool_env(OMP_NUM_THREADS='1'))
    printed = parse_top_k(result.stdout)
    assert sorted(printed) == [str(p) for p in images], result.stdout
    scores = _scores_by_hand(images, checkpoint)
    from mmpretrain.datasets import ImageNet
    classes = ImageNet.METAINFO['classes']
    saved = {p['source']: p for p in json.loads(out_json.read_text())}
    for image, probabilities in zip(images, scores):
        labels = [label for label, _, _ in printed[str(image)]]
        printed_scores = [score for _, _, score in printed[str(image)]]
        # The printed scores are the model's, for the printed classes, and
        # the 3 highest (after 2 iterations most of the 1000 classes tie).
        np.testing.assert_allclose(
            printed_scores, probabilities[labels], atol=1e-6)
        np.testing.assert_allclose(
            printed_scores, np.sort(probabilities)[::-1][:3], atol=1e-6)
        assert [name for _, name, _ in printed[str(image)]
                ] == [classes[i] for i in labels]
        assert saved[str(image)]['labels'] == labels
        np.testing.assert_allclose(
            saved[str(image)]['scores'], probabilities[labels], atol=1e-6)
