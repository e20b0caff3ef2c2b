#!/usr/bin/env bash
# gpu-lite on one GPU, step by step, stopping at the first failure. In the project root of a
# machine with a CUDA GPU, the project's packages importable (requirements.lock; torch with CUDA)
# and Fashion-MNIST's IDX files where diamlib finds them (e.g. under $DIAMLIB_DATA_DIR):
#
#   bash benchmarks/gpu_lite.sh
#
# 1. checks: a CUDA GPU, every package the notebook runner needs, the profile and its data;
# 2. sanity: one paper6 model, 500 labels, 2 epochs (gpu_round.py; not recorded);
# 3. rates: the six paper6 models as gpu-lite trains them (1,000 labels, a 19,000-image pool,
#    the 10,000 test images, 20 epochs, bf16, channels-last, the authors' augmentation), as many
#    at once as the profile's workers_per_gpu; the lines are appended to
#    benchmarks/results/gpu_round.jsonl;
# 4. the estimate of gpu-lite from those rates (gpu_round.py --estimate): stops when it
#    exceeds LIMIT_MIN minutes;
# 5. the run: notebooks 02 and 04 on gpu-lite (python -m diamlib run), into results/gpu-lite/.
#
# Logs go to results/gpu-lite/logs/. With $OUT set, the record (notebooks, figures, tables, the
# runs' CSVs and run.json, the logs, gpu_round.jsonl) is also copied there, paths kept.
# Environment: PY (default python3), LIMIT_MIN (default 8), RUN_TIMEOUT_MIN (default
# 2 x LIMIT_MIN), SELECTION_S (seconds of one DIAM selection for the estimate, default 77.4),
# SKIP_RATES=1 (estimate from the rates already in gpu_round.jsonl). Without a Jupyter kernel
# named diamlib, one is installed under KERNEL_PREFIX (default: a temporary folder).
set -euo pipefail

PY=${PY:-python3}
LIMIT_MIN=${LIMIT_MIN:-8}
RUN_TIMEOUT_MIN=${RUN_TIMEOUT_MIN:-$((2 * LIMIT_MIN))}
SELECTION_S=${SELECTION_S:-77.4}
PROFILE=gpu-lite
RECORD=results/$PROFILE
LOGS=$RECORD/logs
RATES=benchmarks/results/gpu_round.jsonl

export PYTHONUNBUFFERED=1
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD
mkdir -p "$LOGS"
step() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$LOGS/steps.log"; }

step "1/5 checks"
nvidia-smi -L | tee "$LOGS/gpu.txt"
"$PY" - <<'EOF' 2>&1 | tee "$LOGS/checks.log"
import importlib, sys
missing = []
for name in ("torch", "diamlib", "papermill", "nbformat", "nbclient", "ipykernel", "jupyter_client",
             "distributed", "pydantic", "ofa"):
    try:
        importlib.import_module(name)
    except ImportError as error:
        missing.append(f"{name} ({error})")
if missing:
    sys.exit("missing: " + ", ".join(missing) + "; add their wheels (README, GPU section)")
import torch
if not torch.cuda.is_available():
    sys.exit("no CUDA device visible to torch")
from diamlib.experiment.setup import check_data_roots, load_profile, load_task_data
profile = load_profile("gpu-lite")
check_data_roots(profile, ["classification"])
section = profile.experiment("classification")
train, test = load_task_data(section, "classification", section.datasets[0])
print("torch", torch.__version__, torch.cuda.get_device_name(0), "| train", train.n, "test", test.n)
EOF
if ! "$PY" -c "from jupyter_client.kernelspec import find_kernel_specs as f; import sys; sys.exit('diamlib' not in f())"; then
  KERNEL_PREFIX=${KERNEL_PREFIX:-$(mktemp -d)}
  "$PY" -m ipykernel install --prefix "$KERNEL_PREFIX" --name diamlib --display-name "Python (diamlib)"
  export JUPYTER_PATH=$KERNEL_PREFIX/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}
fi

step "2/5 sanity: one model, 500 labels, 2 epochs"
timeout 180 "$PY" benchmarks/gpu_round.py --device cuda --zoo paper6 --models 1 --labels 500 --pool 5000 \
  --test 1000 --epochs 2 --amp --channels-last --out - 2>&1 | tee "$LOGS/sanity.log"

WORKERS=$("$PY" -c "from diamlib.experiment.setup import load_profile; print(load_profile('$PROFILE').execution.workers_per_gpu)")
if [ "${SKIP_RATES:-0}" != 1 ]; then
  step "3/5 rates: paper6 as gpu-lite trains it, $WORKERS at once"
  timeout 480 "$PY" benchmarks/gpu_round.py --device cuda --zoo paper6 --labels 1000 --pool 19000 --test 10000 \
    --epochs 20 --batch-size 120 --augmentation authors --amp --channels-last --concurrency "$WORKERS" \
    --label "$PROFILE rates" --out "$RATES" 2>&1 | tee "$LOGS/rates.log"
fi

step "4/5 estimate of $PROFILE from $RATES"
"$PY" benchmarks/gpu_round.py --estimate "$PROFILE" --rates "$RATES" --workers "$WORKERS" \
  --selection-seconds "$SELECTION_S" | tee "$LOGS/estimate.log"
"$PY" - "$LOGS/estimate.log" "$LIMIT_MIN" <<'EOF'
import json, sys
minutes = json.loads(open(sys.argv[1]).readline())["estimate"]["wall_seconds"] / 60
if minutes > float(sys.argv[2]):
    sys.exit(f"the estimate, {minutes:.1f} min, exceeds LIMIT_MIN={sys.argv[2]}: not started. Run with a larger "
             f"LIMIT_MIN (and SKIP_RATES=1) if the GPU is yours for that long; finished runs are kept and skipped")
print(f"estimate {minutes:.1f} min <= {sys.argv[2]} min: running")
EOF

step "5/5 run: notebooks 02 and 04 on $PROFILE (timeout ${RUN_TIMEOUT_MIN} min)"
nvidia-smi dmon -s u -d 10 > "$LOGS/dmon.log" 2>&1 &
DMON=$!
status=0
timeout "${RUN_TIMEOUT_MIN}m" "$PY" -m diamlib run --profile "$PROFILE" --only 02 04 2>&1 | tee "$LOGS/run.log" \
  || status=$?
kill "$DMON" 2>/dev/null || true
step "run finished with status $status"

if [ -n "${OUT:-}" ]; then
  find "$RECORD" \( -name '*.ipynb' -o -path "*/figures/*" -o -path "*/tables/*" -o -path "*/logs/*" \
       -o -name '*.csv' -o -name run.json \) -type f -print0 | xargs -0 -r cp --parents -t "$OUT"
  cp --parents -t "$OUT" "$RATES"
fi
exit "$status"
