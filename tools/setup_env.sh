#!/usr/bin/env bash
# Set up glore_mm and the OpenMMLab 2.x stack it runs on, from scratch.
#
# Usage: bash tools/setup_env.sh [--tests] [--deploy]
#   --tests   also install what the test suite needs (includes --deploy).
#   --deploy  also install ONNX export and ONNX Runtime
#             (requirements/deploy.txt).
# Environment:
#   PYTHON           install into this existing interpreter (your own env)
#                    instead of creating the virtualenv below.
#   VENV             virtualenv to create or reuse (default: .venv).
#   GLORE_MM_CACHE   where the built mmcv wheel is cached
#                    (default: ${XDG_CACHE_HOME:-~/.cache}/glore_mm).
#
# Steps that are already satisfied are skipped: an environment whose mmcv
# 2.1 imports with its compiled ops never rebuilds mmcv, and a machine that
# built the wheel once reuses it from the cache.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
with_deploy=0
for arg in "$@"; do
    case "$arg" in
        --tests) with_tests=1; with_deploy=1 ;;
        --deploy) with_deploy=1 ;;
        *) echo "setup_env.sh: unknown argument '$arg' (allowed: --tests, --deploy)" >&2
           exit 2 ;;
    esac
done

if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON
else
    VENV=${VENV:-.venv}
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    PY=$VENV/bin/python
fi
pip_install() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }

# setuptools < 82: mmcv's setup.py and mmengine's `mmseg::` config
# inheritance import pkg_resources, which setuptools 82 removed.
pip_install -U pip 'setuptools>=77,<82' wheel ninja

# torch and torchvision must be a matching pair (a mismatched torchvision
# fails at import with "operator torchvision::nms does not exist", which
# breaks mmpretrain and mmengine's Runner). Keep a working pair if present.
if "$PY" -c 'import torch, torchvision.ops' 2>/dev/null; then
    echo "[setup_env] keeping torch $("$PY" -c 'import torch; print(torch.__version__)')"
else
    pip_install torch==2.14.1 torchvision==0.29.1
fi

# mmcv 2.1 with compiled ops (mmseg imports mmcv.ops; 2.2 is rejected by
# mmseg 1.2.2 and mmaction2 1.2.0).
if "$PY" -c 'import mmcv, mmcv.ops; assert mmcv.__version__.startswith("2.1.")' \
        2>/dev/null; then
    echo "[setup_env] keeping mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)')"
else
    bash tools/misc/build_mmcv.sh "$PY"
fi

pip_install -r requirements/runtime.txt
"$PY" tools/misc/patch_mmaction_drn.py
pip_install --no-deps -e .
if [ "$with_deploy" = 1 ]; then
    pip_install -r requirements/deploy.txt
fi
if [ "$with_tests" = 1 ]; then
    pip_install -r requirements/tests.txt
fi
"$PY" -c 'import glore_mm, mmseg.models, mmaction.models, mmpretrain.models
import mmdet.models'
echo "[setup_env] ready: $PY"
