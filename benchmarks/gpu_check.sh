#!/usr/bin/env bash
# GPU throughput check for `trajectory analyze` and `trajectory catalog`: installs nothing, needs
# no network, < 9 minutes (a lent GPU is held for 15 minutes a session, start-up included).
#
# Run from anywhere in a copy of the repository on a machine with a CUDA GPU, with the
# project's virtual environment carried along as .venv/ (or torch and the project's
# dependencies preinstalled for python3; set PYTHON to choose the interpreter):
#
#     bash benchmarks/gpu_check.sh
#
# Each part has its own time limit and a part that fails does not stop the next; the exit status
# is non-zero when any part failed.
#
# It generates (or reuses from benchmarks/out/) a 60 s 1080p24 test film, then prints the
# benchmark table: the model alone at batch 64 and 256 under bf16 autocast (fp16 on GPUs without
# bf16, as analyze picks), analyze end to end (realtime factor) with batch 64 at --fps 1 and 4,
# the decode floor and the naive baseline.
# Extra arguments go to benchmarks/throughput.py (e.g. --seconds 120).
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch" 2>/dev/null; then
        PY=.venv/bin/python
    else
        PY=python3
    fi
fi
# The tree may sit elsewhere than where the venv's editable install points: import it from here.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PIP_NO_INDEX=1 HF_HUB_OFFLINE=1 TORCH_HOME="${TORCH_HOME:-$PWD/benchmarks/out/torch}"

"$PY" - <<'PYEOF'
import sys

import torch

if not torch.cuda.is_available():
    sys.exit("gpu_check: torch sees no CUDA GPU; nothing to measure")
props = torch.cuda.get_device_properties(0)
print(f"gpu_check: {props.name}, {props.total_memory / 2**30:.0f} GiB, torch {torch.__version__},"
      f" bf16 {torch.cuda.is_bf16_supported()}", flush=True)
PYEOF

failed=""
# 240 + 200 + 100 s hard limits: the whole check stays under 9 minutes even if something hangs.
timeout 240 "$PY" benchmarks/throughput.py --device cuda --seconds 60 --batch-size 64 \
    --model-batches 256 --inference-seconds 10 --repeats 2 --skip memory,scenedetect "$@" || failed="$failed throughput"

# Catalogue mode: 8 films of 20-40 s (640x360, generated once) through one model load, with 4
# and 12 decode workers feeding the GPU; the shell-loop baseline and the page check are skipped
# to stay within the time limit. Prints films per hour, CPU use and peak RSS per process.
timeout 200 "$PY" benchmarks/catalog.py --device cuda --workers 4,12 --skip loop,page \
    --films 8 --max-seconds 40 || failed="$failed catalog"

# Ray engine (when the ray extra is installed): a local Ray instance with one GPU scoring actor
# and the other cores decoding, against the local engine on the same 6 films; prints both wall
# times and their ratio.
if "$PY" -c "import ray.data" 2>/dev/null; then
    timeout 100 "$PY" benchmarks/ray_overhead.py --films 6 --rounds 1 || failed="$failed ray"
else
    echo "gpu_check: ray is not installed; the Ray engine part is skipped"
fi
if [ -n "$failed" ]; then
    echo "gpu_check: failed:$failed" >&2
    exit 1
fi
