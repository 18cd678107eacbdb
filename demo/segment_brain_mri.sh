#!/usr/bin/env bash
# Offline demo: train the GloRe FCN on brain MRI slices on the CPU for a few
# minutes, then evaluate it with tools/test.py, which prints per-class IoU and
# mIoU (background, grey matter, white matter).
#
# Usage: bash demo/segment_brain_mri.sh [extra tools/train.py arguments]
# Environment:
#   PYTHON     interpreter (default: .venv/bin/python)
#   OMP_NUM_THREADS  torch's threads (default: 1). With one thread the run
#              is the brain MRI experiment's seed-0 GloRe run bit for bit
#              (docs/experiments.md): the mIoU it prints is the one the docs
#              and the metafile quote, 72.39. More threads sum in another
#              order: two gave 72.38 on the same machine.
#   WORK_DIR   where logs and checkpoints go
#              (default: work_dirs/glore_r18-d8_1xb8-1k_brain-mri-128x128)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
CONFIG=configs/mmseg/glore_r18-d8_1xb8-1k_brain-mri-128x128.py
WORK_DIR=${WORK_DIR:-work_dirs/$(basename "$CONFIG" .py)}
DATA=data/brain_mri  # the config's data_root

if [ ! -d "$DATA/img_dir/train" ]; then
    "$PY" tools/dataset_converters/brain_mri.py "$DATA"
fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
"$PY" tools/test.py "$CONFIG" "$(cat "$WORK_DIR/last_checkpoint")" \
    --work-dir "$WORK_DIR"
