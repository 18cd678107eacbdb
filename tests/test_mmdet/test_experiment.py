# Copyright (c) glore_mm contributors. All rights reserved.
"""The Fashion-MNIST detection experiment in --quick mode: plain and GloRe
Mask R-CNN trained through tools/train.py on a tiny detection set, and the
report written from their logs: box and mask AP, the curves, the cost."""
import re
import sys

from tests.test_mmdet.det_runs import make_detection_set
from tests.tool_runner import REPO, run_tool, tool_env

RUNNER = REPO / '.dev_scripts' / 'experiments' / 'run.py'
NAME = 'fashion_mnist_detection'
LABELS = ('Mask R-CNN R-50-FPN (1/4 width)', '+ 3 GloRe after res4 (`res4x3`)')


def test_quick_run_reports_box_and_mask_ap(tmp_path):
    data_root = make_detection_set(tmp_path)
    work_dir, doc = tmp_path / 'runs', tmp_path / 'detection.md'
    result = run_tool([
        sys.executable, RUNNER, NAME, '--quick', '--jobs', '2', '--data-root',
        data_root, '--work-dir', work_dir, '--doc', doc, '--images',
        tmp_path / 'images'
    ],
                      cwd=REPO,
                      env=tool_env(OMP_NUM_THREADS='1'))
    assert f'report written to {doc}' in result.stdout
    text = doc.read_text()
    section = text[text.index(f'run.py {NAME}: begin'):]
    number = r'\d+\.\d'
    for label in LABELS:
        # box AP, AP50, mask AP, AP50 (x100), seconds per run
        row = rf'^\| {re.escape(label)} \|' + \
            rf' {number} \|' * 4 + r' \d+ \|$'
        assert re.search(row, section, re.M), section
        cost = rf'^\| {re.escape(label)} \| [\d.]+ k \| [\d.]+ M \|'
        assert re.search(cost, section, re.M), section
    for image in ('curves', 'loss'):
        assert (tmp_path / 'images' /
                f'experiments_{NAME}_{image}.png').stat().st_size > 0
    assert '**Quick mode**' in section
