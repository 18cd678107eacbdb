#!/usr/bin/env bash
# Build (once per machine) and install mmcv 2.1.0 with its compiled ops.
#
# PyPI only carries mmcv 2.1.0 as an sdist, and mmcv 2.2.x is rejected at
# import time by mmsegmentation 1.2.2 and mmaction2 1.2.0. The built wheel is
# cached outside the repository, keyed by the torch and Python versions it was
# compiled against, so a machine pays the build once (the whole set-up took
# 13 min on a fresh, idle 2-core machine; the build takes up to ~30 min when
# other jobs share the cores).
#
# Usage: tools/misc/build_mmcv.sh PYTHON
#   PYTHON   interpreter of the environment to install into (with torch).
# Environment:
#   GLORE_MM_CACHE   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/glore_mm)
#   MAX_JOBS         parallel compile jobs (default: number of cores)
set -euo pipefail

PY=${1:?usage: build_mmcv.sh PYTHON}
# Absolute, without resolving the venv symlink: the build runs from another
# directory.
case "$PY" in
    */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" ;;
    *) PY=$(command -v "$PY") ;;
esac
MMCV_VERSION=2.1.0
CACHE_ROOT=${GLORE_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/glore_mm}

torch_version=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
py_tag=$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
cache_dir="$CACHE_ROOT/wheels/mmcv-$MMCV_VERSION/torch-$torch_version-$py_tag"

wheel=$(ls "$cache_dir"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    echo "[build_mmcv] no cached wheel in $cache_dir: building mmcv $MMCV_VERSION" \
         "against torch $torch_version ($py_tag): 10-30 minutes on 2 cores"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$PY" -m pip download --no-deps --no-binary :all: --no-build-isolation \
        -d "$work" \
        "mmcv==$MMCV_VERSION"
    tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
    src="$work/mmcv-$MMCV_VERSION"
    # mmcv 2.1.0's setup.py hard-codes -std=c++17 for its C++ extension, but
    # the ATen headers of torch >= 2.10 stop with "#error C++20 or later
    # compatible compiler is required to use ATen". The ops themselves build
    # unchanged as C++20.
    n=$(grep -c -- '-std=c++17' "$src/setup.py" || true)
    if [ "$n" -eq 0 ]; then
        echo "[build_mmcv] expected -std=c++17 in $src/setup.py, found none" >&2
        exit 1
    fi
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    echo "[build_mmcv] patched $n '-std=c++17' flag(s) to -std=c++20"
    (
        cd "$src"
        MMCV_WITH_OPS=1 FORCE_CUDA=${FORCE_CUDA:-0} \
        MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            "$PY" -m pip wheel --no-build-isolation --no-deps -w "$work/dist" .
    )
    built=$(ls "$work"/dist/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)
    # Copy under a temporary name, then rename: a concurrent or interrupted
    # build never leaves a half-written wheel in the cache.
    mkdir -p "$cache_dir"
    tmp="$cache_dir/.$(basename "$built").$$.tmp"
    cp "$built" "$tmp"
    mv "$tmp" "$cache_dir/$(basename "$built")"
    wheel="$cache_dir/$(basename "$built")"
    echo "[build_mmcv] cached $wheel"
else
    echo "[build_mmcv] reusing cached $wheel"
fi
"$PY" -m pip install --no-deps "$wheel"
