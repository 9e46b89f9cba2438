#!/usr/bin/env bash
# One command on a CUDA machine: the package tests on CUDA, every chapter under
# `pytest --nbval-lax`, and both benchmarks, with every result under one folder,
# benchmarks/results/gpu-<date>/ (or $OUT_DIR). The sliding-window benchmark times each
# method's forward and training step (forward + backward) in interleaved rounds, with
# their spread, records the peak memory of both and which SDPA backend (flash, efficient,
# cudnn, math) each call ran, and prints the targets' ratios; a second run compares block
# sizes of the blocked path at N = 16384 (sliding_window_block_size_cuda.json).
#
#   bash benchmarks/gpu_check.sh [WHEELS_DIR]
#
# Works offline on a machine with python3 and PyTorch but no Jupyter stack (as described in
# ../shared/wheels-py312/README.md): give the folder of wheels as the first argument (or as
# $ATTNBOOK_WHEELS) and they are installed into .gpu-site/ (git-ignored), never into the
# system. attnbook itself is used from code/src. Steps that fail are recorded and the rest
# still run; the exit status is 1 if any step failed.
#
# Environment: PYTHON (default python3), OUT_DIR, SW_SIZES (default "1024 4096 16384 65536"),
# SW_WINDOWS (default "128 512"), SW_BLOCK_SIZES (default "64 128 256"), SKIP (any of: tests
# notebooks sliding sliding_blocks resnet). For a check of the sliding steps on a machine
# without CUDA (tests/test_benchmarks.py): SW_DEVICE=cpu SW_DTYPE=float32, SW_BLOCK_SIZE_N (default
# 16384) and SW_EXTRA (more arguments for both sliding runs, e.g. "--rounds 1").
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
WHEELS=${1:-${ATTNBOOK_WHEELS:-}}
OUT_DIR=${OUT_DIR:-$ROOT/benchmarks/results/gpu-$(date -u +%Y-%m-%d)}
SW_SIZES=${SW_SIZES:-1024 4096 16384 65536}
SW_WINDOWS=${SW_WINDOWS:-128 512}
SW_BLOCK_SIZES=${SW_BLOCK_SIZES:-64 128 256}
SW_BLOCK_SIZE_N=${SW_BLOCK_SIZE_N:-16384}
SW_DEVICE=${SW_DEVICE:-cuda}
SW_DTYPE=${SW_DTYPE:-bfloat16}
SW_EXTRA=${SW_EXTRA:-}
SKIP=${SKIP:-}
SITE=$ROOT/.gpu-site
mkdir -p "$OUT_DIR"
STATUS="$OUT_DIR/status.txt"
: > "$STATUS"

if [ -n "$WHEELS" ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl \
        > "$OUT_DIR/install.log" 2>&1 || echo "install wheels: failed (see install.log)" >> "$STATUS"
fi
export PYTHONPATH="$SITE:$ROOT/code/src${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$SITE/bin:$PATH"
export JUPYTER_PATH="$SITE/share/jupyter"
export PYTHONHASHSEED=0
if "$PYTHON" -c "import ipykernel" 2>/dev/null; then
    "$PYTHON" -m ipykernel install --prefix "$SITE" --name python3 --display-name "Python 3" \
        >> "$OUT_DIR/install.log" 2>&1
fi

{
    date -u
    git rev-parse HEAD
    nvidia-smi || true
    "$PYTHON" -c "import sys, torch; print(sys.version); print('torch', torch.__version__, 'cuda', torch.version.cuda); \
print('device', torch.cuda.get_device_name() if torch.cuda.is_available() else 'NO CUDA'); \
b = torch.backends; print('cudnn', b.cudnn.version() if b.cudnn.is_available() else None); \
print('sdpa backends enabled: flash', b.cuda.flash_sdp_enabled(), 'efficient', b.cuda.mem_efficient_sdp_enabled(), \
'cudnn', b.cuda.cudnn_sdp_enabled(), 'math', b.cuda.math_sdp_enabled())"
    for module in hypothesis sklearn nbval ipykernel timm; do
        "$PYTHON" -c "import $module; print('$module', getattr($module, '__version__', '?'))" 2>/dev/null \
            || echo "$module: not importable"
    done
} > "$OUT_DIR/environment.txt" 2>&1

step() {  # step NAME LOGFILE COMMAND...: run, log, record the outcome
    local name=$1 log=$2
    shift 2
    case " $SKIP " in *" $name "*) echo "$name: skipped" >> "$STATUS"; return;; esac
    echo "== $name: $*"
    local start=$SECONDS
    "$@" > "$OUT_DIR/$log" 2>&1
    local rc=$?
    echo "$name: $([ $rc = 0 ] && echo passed || echo "FAILED (exit $rc)") in $((SECONDS - start)) s, log $log" \
        | tee -a "$STATUS"
}

# The package tests, on CUDA where a test takes the `device` fixture (the book build and the
# browser tests need Jupyter Book and Chromium: they are not part of this check).
step tests tests.log "$PYTHON" -m pytest tests -p no:nbval -o "addopts=-p no:cacheprovider" -q -rs \
    --ignore=tests/test_book_build.py --ignore=tests/test_browser.py --junitxml="$OUT_DIR/tests.xml"
# Every chapter on the GPU; --nbval-lax runs every cell but compares no output (the stored
# outputs were computed on a CPU).
step notebooks notebooks.log "$PYTHON" -m pytest --nbval-lax chapters/ -o "addopts=-p no:cacheprovider" \
    --nbval-cell-timeout=1200 -q --junitxml="$OUT_DIR/notebooks.xml"
# Forward and training step of every method, interleaved; rows record "sdpa_forward" and
# "sdpa_train", the SDPA backends each call ran (a fall-back to "math" stores the scores).
# shellcheck disable=SC2086
step sliding sliding_window.log "$PYTHON" benchmarks/sliding_window.py --device "$SW_DEVICE" --dtype "$SW_DTYPE" \
    --sizes $SW_SIZES --windows $SW_WINDOWS --out "$OUT_DIR/sliding_window_$SW_DEVICE.json" $SW_EXTRA
# The blocked path's block size on this GPU, beside FlexAttention and full attention.
BLOCK_METHODS=""
for block in $SW_BLOCK_SIZES; do BLOCK_METHODS="$BLOCK_METHODS blocked:$block"; done
# shellcheck disable=SC2086
step sliding_blocks sliding_window_block_size.log "$PYTHON" benchmarks/sliding_window.py --device "$SW_DEVICE" \
    --dtype "$SW_DTYPE" --sizes $SW_BLOCK_SIZE_N --windows $SW_WINDOWS --methods $BLOCK_METHODS flex_raw full_sdpa \
    --out "$OUT_DIR/sliding_window_block_size_$SW_DEVICE.json" $SW_EXTRA
step resnet resnet_attention.log "$PYTHON" benchmarks/resnet_attention.py --device cuda \
    --out "$OUT_DIR/resnet_attention_cuda.json"
step resnet resnet_attention_eager.log "$PYTHON" benchmarks/resnet_attention.py --device cuda --mode eager \
    --out "$OUT_DIR/resnet_attention_cuda_eager.json"

echo "results in $OUT_DIR:"
cat "$STATUS"
! grep -q "FAILED\|failed" "$STATUS"
