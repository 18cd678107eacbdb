# Copyright (c) glore_mm contributors. All rights reserved.
"""The tools on the tiny GloRe Mask R-CNN and the tiny Fashion-MNIST
detection set: ours (train.py, test.py, dist_train.sh with two CPU ranks)
and the train.py and test.py that mmdet ships, with box and mask AP from
mmdet's CocoMetric."""
import pickle
import re
import sys
from pathlib import Path

import torch

import glore_mm  # noqa: F401  (importing it installs the checkpoint allowlist)
from tests.test_mmdet.det_runs import (DET_CONFIG, NUM_VAL, check_ap,
                                       coco_metrics, dense_masks, det_options)
from tests.tool_runner import TOOLS, free_port, log_text, run_tool, tool_env

RANK_LINE = re.compile(r'rank (\d)/2 \(gloo, cpu\)')


def _mmdet_tools() -> Path:
    import mmdet
    return Path(mmdet.__file__).parent / '.mim' / 'tools'


def test_train_tool_trains_the_units_and_reports_ap(det_trained):
    log = log_text(det_trained.work_dir)
    assert re.findall(r'Epoch\(train\)\s+\[1\]\[(\d)/2\]', log) == ['1', '2']
    check_ap(coco_metrics(log))
    state = torch.load(det_trained.checkpoint, map_location='cpu')
    gates = [
        value for key, value in state['state_dict'].items()
        if re.fullmatch(r'backbone\.layer3\.\d\.glore\.norm\.weight', key)
    ]
    assert len(gates) == 3
    # zero at the start, moved by the two SGD steps
    assert all(torch.count_nonzero(gate) > 0 for gate in gates)


def test_test_tool_dumps_predictions_and_draws(det_data, det_tested):
    check_ap(coco_metrics(det_tested.output))
    with open(det_tested.predictions, 'rb') as f:
        predictions = pickle.load(f)
    assert sorted(Path(p['img_path']).name for p in predictions) == \
        sorted(p.name for p in (det_data / 'val').glob('*.png'))
    for prediction in predictions:
        instances = prediction['pred_instances']
        count = len(instances['scores'])
        assert instances['bboxes'].shape == (count, 4)
        assert dense_masks(instances['masks'], (96, 96)).shape == \
            (count, 96, 96)
    drawn = (det_tested.show_dir / 'vis_data' / 'vis_image').glob('*.png')
    assert len(list(drawn)) == NUM_VAL


def test_dist_train_on_two_cpu_ranks(det_base, det_data):
    work_dir = det_base / 'dist_train'
    result = run_tool([
        TOOLS / 'dist_train.sh', DET_CONFIG, 2, '--work-dir', work_dir,
        *det_options(det_data)
    ],
                      cwd=det_base,
                      env=tool_env(PORT=free_port(), OMP_NUM_THREADS='1'))
    output = result.stdout + result.stderr
    assert set(RANK_LINE.findall(output)) == {'0', '1'}
    # 4 images, 2 ranks x 2: one iteration, then AP over both ranks' images
    log = log_text(work_dir)
    assert re.findall(r'Epoch\(train\)\s+\[1\]\[(\d)/1\]', log) == ['1']
    check_ap(coco_metrics(log))
    assert (work_dir / 'epoch_1.pth').is_file()


def test_mmdet_train_and_test_tools(det_base, det_data):
    """mmdet's own tools run our config: its custom_imports register the
    backbone and the hooks its runtime declares."""
    tools = _mmdet_tools()
    work_dir = det_base / 'mmdet_train'
    result = run_tool([
        sys.executable, tools / 'train.py', DET_CONFIG, '--work-dir', work_dir,
        *det_options(det_data)
    ],
                      cwd=det_base)
    log = log_text(work_dir)
    check_ap(coco_metrics(log))
    assert 'RandomStateHook' in result.stdout + log
    out = det_base / 'mmdet_preds.pkl'
    result = run_tool([
        sys.executable, tools / 'test.py', DET_CONFIG,
        work_dir / 'epoch_1.pth', '--work-dir', det_base / 'mmdet_test',
        '--out', out, *det_options(det_data)
    ],
                      cwd=det_base)
    check_ap(coco_metrics(result.stdout))
    with open(out, 'rb') as f:
        assert len(pickle.load(f)) == NUM_VAL
