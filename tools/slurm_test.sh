#!/usr/bin/env bash
# Test a checkpoint on a SLURM cluster with srun, one task per GPU.
#
# Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT
#            [tools/test.py arguments]
# Environment: GPUS (4, tasks in all), GPUS_PER_NODE (4, tasks per node),
#              CPUS_PER_TASK (5), SRUN_ARGS (extra srun arguments),
#              GRES (gpu:$GPUS_PER_NODE; GRES=none on CPU partitions, where
#              the tasks test on the CPU with gloo), PYTHON (python).
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT" \
         "[tools/test.py arguments]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
shift 4
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES:-gpu:${GPUS_PER_NODE}}
SRUN_ARGS=${SRUN_ARGS:-""}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)

set -x
# SRUN_ARGS is split into words on purpose.
# shellcheck disable=SC2086
PYTHONPATH="$(dirname "$TOOLS_DIR")${PYTHONPATH:+:$PYTHONPATH}" \
srun --partition="$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres="$GRES" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "${PYTHON:-python}" -u "$TOOLS_DIR/test.py" "$CONFIG" "$CHECKPOINT" \
    --launcher=slurm "$@"
