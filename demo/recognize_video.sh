#!/usr/bin/env bash
# Offline video demo: from nothing to a recognised clip on the CPU. Writes
# the tiny Kinetics-400-format tree of real clips (3 classes: carphone,
# bikes, bigbuckbunny, the source videos), trains the GloRe C2D demo config
# on it for a few minutes with tools/train.py, then runs demo/video_demo.py
# on a held-out clip: it prints the top 5 classes (all 3 here) with their
# scores and writes the clip with its best class drawn in the corner.
#
# Usage: bash demo/recognize_video.sh [extra tools/train.py arguments]
#   (not --cfg-options: the script passes its own)
# Environment:
#   PYTHON      interpreter (default: .venv/bin/python)
#   DATA        the tiny Kinetics tree, written if missing
#               (default: data/tiny_kinetics400, the config's data_root)
#   WORK_DIR    where logs and checkpoints go
#               (default: work_dirs/<config name>)
#   MAX_EPOCHS  training epochs (default: the config's 30)
#   VIDEO       the clip to recognise (default: the first val clip, the
#               untouched H.264 carphone video)
#   OUT         the annotated clip (default: outputs/<video name>)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
CONFIG=configs/mmaction/c2d_r18-glore-res4x1_1xb4-8x4x1-30e_tiny-kinetics400-rgb.py
LABELS=demo/tiny_kinetics_labels.txt
DATA=${DATA:-data/tiny_kinetics400}
WORK_DIR=${WORK_DIR:-work_dirs/$(basename "$CONFIG" .py)}

if [ ! -f "$DATA/kinetics400_val_list_videos.txt" ]; then
    "$PY" tools/dataset_converters/make_tiny_kinetics.py "$DATA"
fi
OPTIONS=()
for split in train val test; do
    OPTIONS+=("${split}_dataloader.dataset.data_root=$DATA")
done
if [ -n "${MAX_EPOCHS:-}" ]; then
    OPTIONS+=("train_cfg.max_epochs=$MAX_EPOCHS"
              "train_cfg.val_begin=$MAX_EPOCHS"
              "train_cfg.val_interval=$MAX_EPOCHS"
              "default_hooks.checkpoint.interval=$MAX_EPOCHS")
fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" \
    --cfg-options "${OPTIONS[@]}" "$@"

FIRST_VAL=$(head -n 1 "$DATA/kinetics400_val_list_videos.txt" | cut -d ' ' -f 1)
VIDEO=${VIDEO:-$DATA/videos_val/$FIRST_VAL}
OUT=${OUT:-outputs/$(basename "$VIDEO")}
"$PY" demo/video_demo.py "$CONFIG" "$(cat "$WORK_DIR/last_checkpoint")" \
    "$VIDEO" "$LABELS" --out-file "$OUT"
