#!/usr/bin/env bash
# Train on GPUS processes per node with torchrun (torch.distributed.run).
#
# Usage: tools/dist_train.sh CONFIG GPUS [tools/train.py arguments]
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
#              PORT (29500), PYTHON (python).
# Without CUDA, the processes train on the CPU with the gloo backend.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [tools/train.py arguments]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
if ! [[ $GPUS =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: GPUS must be a positive integer, but got '$GPUS'" >&2
    exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)

PYTHONPATH="$(dirname "$TOOLS_DIR")${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/train.py" \
    "$CONFIG" \
    --launcher pytorch "$@"
