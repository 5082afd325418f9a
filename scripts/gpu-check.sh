#!/usr/bin/env bash
# The CUDA check, one prepared run (≤ 5 min on an H200): every figure printed at the end and written
# as JSON under $OUT.
#
#   scripts/gpu-check.sh                 on a machine with CUDA
#   DEVICE=cpu scripts/gpu-check.sh      a dry run on the CPU with tiny sizes (checks the script itself)
#
# Environment: OUT (default gpu-check-out), PYTHON (default python, else python3), N (population size;
# 1024 on cuda, 8 on cpu). Needs torch, Lightning, numpy, scipy, matplotlib, Hydra/OmegaConf and pytest
# importable (PYTHONPATH=$PWD/src:/tmp/site is fine); installs nothing.
#
# Steps, each with its own time limit; a failed step is reported and the rest still run; the exit
# status is non-zero when any step failed:
#   env          torch/CUDA/GPU versions
#   single       python -m excolor.train trainer=gpu (the full Ex 2.3 schedule)
#   population   the same with population.size=N (per-member draws on the device, the default)
#   graphs       population.size=N with cuda_graphs=true (steps replayed as captured CUDA graphs)
#   bench        python -m excolor.bench --device cuda --population N --population-only
#   tests        pytest tests/test_device_placement.py tests/test_step_graphs.py (meta, CPU and cuda)
#   profile      scripts/gpu_profile.py: where a population step's time goes, host syncs counted
#   host_draws   1,000 steps of population.size=N with data.device_draws=false (the CPU generators),
#   device_draws the same 1,000 steps with the default device draws: their ms/step ratio
#   summary      every figure in one table; $OUT/summary.json
# The steps share a time budget (BUDGET seconds, 300 on cuda), most important first: a step's limit
# is cut to what is left, and a step with less than 20 s left is skipped (listed; not a failure).

set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-gpu-check-out}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python}
command -v "$PYTHON" > /dev/null 2>&1 || PYTHON=python3
export PYTHONPATH=${PYTHONPATH:-$PWD/src}
export WANDB_MODE=disabled WANDB_SILENT=true PYTHONUNBUFFERED=1
mkdir -p "$OUT/runs" || exit 2
rm -rf "$OUT"/runs/* "$OUT"/*.log "$OUT"/steps.tsv "$OUT"/*.json
STARTED=$(date +%s)

case "$DEVICE" in
  cuda)
    N=${N:-1024}; TRAINER=trainer=gpu; STEPS=(); SHORT=(trainer.max_steps=1000); BUDGET=${BUDGET:-300}
    BENCH=(--device cuda --population "$N" --population-only); PROFILE_STEPS=300
    LIMIT_SINGLE=60; LIMIT_POP=90; LIMIT_SHORT=60; LIMIT_BENCH=120; LIMIT_TEST=120; LIMIT_PROFILE=60 ;;
  cpu)
    N=${N:-8}; TRAINER=trainer=cpu; STEPS=(trainer.max_steps=60); SHORT=(trainer.max_steps=30); BUDGET=${BUDGET:-3600}
    BENCH=(--device cpu --population "$N" --population-only --quick); PROFILE_STEPS=30
    LIMIT_SINGLE=300; LIMIT_POP=300; LIMIT_SHORT=300; LIMIT_BENCH=600; LIMIT_TEST=900; LIMIT_PROFILE=300 ;;
  *) echo "gpu-check: DEVICE=$DEVICE must be cuda or cpu" >&2; exit 2 ;;
esac
COMMON=(logger=none callbacks=none cache.enabled=false evaluation.plots=false "$TRAINER")
FAILED=()
SKIPPED=()

# step NAME LIMIT COMMAND…: runs COMMAND under `timeout`, its output in $OUT/NAME.log (the last lines
# echoed), its exit status and seconds in $OUT/steps.tsv.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$(( BUDGET - ($(date +%s) - STARTED) ))
  if [ "$left" -lt 20 ]; then
    echo "== $name: skipped, ${left} s of the ${BUDGET} s budget left"
    printf '%s\t%s\t%s\n' "$name" skipped 0 >> "$OUT/steps.tsv"
    SKIPPED+=("$name")
    return
  fi
  [ "$left" -lt "$limit" ] && limit=$left
  echo "== $name (limit ${limit} s): $*"
  local start end rc
  start=$(date +%s.%N)
  timeout -k 15 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  local seconds
  seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t%s\n' "$name" "$rc" "$seconds" >> "$OUT/steps.tsv"
  tail -n 4 "$OUT/$name.log" | sed 's/^/   | /'
  if [ "$rc" -ne 0 ]; then
    FAILED+=("$name")
    [ "$rc" -eq 124 ] && echo "   ! $name: timed out after $limit s" || echo "   ! $name: exit status $rc"
  fi
  echo "   ($seconds s)"
}

TRAIN=("$PYTHON" -m excolor.train "${COMMON[@]}")  # + hydra.run.dir=$OUT/runs/<name> and the run's overrides

step env 60 "$PYTHON" - "$OUT/env.json" <<'EOF'
import json, os, platform, sys
import torch, lightning
info = {"python": platform.python_version(), "torch": torch.__version__, "lightning": lightning.__version__,
        "cuda_available": torch.cuda.is_available(), "cuda": torch.version.cuda, "cpus": os.cpu_count(),
        "machine": platform.machine()}
if torch.cuda.is_available():
    info["gpu"] = torch.cuda.get_device_name(0)
    info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
json.dump(info, open(sys.argv[1], "w"), indent=2)
print(json.dumps(info))
EOF
if [ "$DEVICE" = cuda ] && command -v nvidia-smi > /dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total,utilization.gpu --format=csv > "$OUT/nvidia-smi.log" 2>&1
fi

step single "$LIMIT_SINGLE" "${TRAIN[@]}" "hydra.run.dir=$OUT/runs/single" ${STEPS[@]+"${STEPS[@]}"}
step population "$LIMIT_POP" "${TRAIN[@]}" "hydra.run.dir=$OUT/runs/population" "population.size=$N" \
  ${STEPS[@]+"${STEPS[@]}"}
step graphs "$LIMIT_POP" "${TRAIN[@]}" "hydra.run.dir=$OUT/runs/graphs" "population.size=$N" cuda_graphs=true \
  ${STEPS[@]+"${STEPS[@]}"}
step bench "$LIMIT_BENCH" "$PYTHON" -m excolor.bench "${BENCH[@]}" --out "$OUT/bench.json"
step tests "$LIMIT_TEST" "$PYTHON" -m pytest tests/test_device_placement.py tests/test_step_graphs.py -q -m "not slow" \
  -p no:cacheprovider -rA
step profile "$LIMIT_PROFILE" "$PYTHON" scripts/gpu_profile.py --device "$DEVICE" --population "$N" \
  --steps "$PROFILE_STEPS" --out "$OUT/profile.json"
step host_draws "$LIMIT_SHORT" "${TRAIN[@]}" "hydra.run.dir=$OUT/runs/host_draws" "population.size=$N" \
  data.device_draws=false "${SHORT[@]}"
step device_draws "$LIMIT_SHORT" "${TRAIN[@]}" "hydra.run.dir=$OUT/runs/device_draws" "population.size=$N" \
  "${SHORT[@]}"

# ---------------------------------------------------------------------------- summary
"$PYTHON" - "$OUT" "$N" "$(( $(date +%s) - STARTED ))" <<'EOF'
import json, sys
from pathlib import Path

out, n, wall = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
summary = {"population_size": n, "wall_seconds": wall, "steps": {}, "runs": {}}
for line in (out / "steps.tsv").read_text().splitlines():
    name, rc, seconds = line.split("\t")
    summary["steps"][name] = {"exit": int(rc) if rc.lstrip("-").isdigit() else rc, "seconds": float(seconds)}
for name in ("env", "bench", "profile"):
    path = out / f"{name}.json"
    if path.is_file():
        summary[name] = json.loads(path.read_text())
KEYS = ("train/seconds", "eval/seconds", "train/steps", "train/device", "population/size", "train/recon",
        "val/recon", "eval/none/median_mse", "eval/suppression/score", "train/diverged")
for run in sorted((out / "runs").glob("*/metrics.json")):
    metrics = json.loads(run.read_text())
    row = {key: metrics.get(key) for key in KEYS}
    size, steps = row["population/size"] or 1, row["train/steps"] or 0
    if row["train/seconds"] and steps:
        row["ms_per_step"] = 1000 * row["train/seconds"] / steps
        row["fit_seconds_per_member"] = row["train/seconds"] / size
        row["eval_seconds_per_member"] = (row["eval/seconds"] or 0) / size
    summary["runs"][run.parent.name] = row
runs = summary["runs"]
ratios = {}
if "single" in runs and "population" in runs and runs["single"].get("train/seconds"):
    s, p = runs["single"], runs["population"]
    ratios["population_ratio (member fit / single fit)"] = p["fit_seconds_per_member"] / s["train/seconds"]
    ratios["population fit + eval per member / single"] = (p["train/seconds"] + p["eval/seconds"]) / p["population/size"] / (s["train/seconds"] + s["eval/seconds"])
if "host_draws" in runs and "device_draws" in runs:
    ratios["ms/step host draws / device draws (same steps)"] = runs["host_draws"]["ms_per_step"] / runs["device_draws"]["ms_per_step"]
if "graphs" in runs and "population" in runs:
    ratios["ms/step eager / graphs"] = runs["population"]["ms_per_step"] / runs["graphs"]["ms_per_step"]
summary["ratios"] = ratios
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

print("\n================ gpu-check summary ================")
env = summary.get("env", {})
print(f"machine: {env.get('gpu', 'no GPU')} · torch {env.get('torch')} · CUDA {env.get('cuda')} · Lightning {env.get('lightning')} · "
      f"Python {env.get('python')} · {env.get('cpus')} CPUs · wall {wall} s")
print(f"{'step':<20}{'exit':>5}{'seconds':>9}")
for name, s in summary["steps"].items():
    print(f"{name:<20}{s['exit']:>5}{s['seconds']:>9.1f}")
print(f"\n{'run':<20}{'N':>6}{'steps':>6}{'fit s':>8}{'ms/step':>9}{'eval s':>8}{'fit s/member':>13}{'eval s/member':>14}"
      f"{'train/recon':>12}{'val/recon':>11}{'median mse':>11}  device")
for name, r in runs.items():
    def f(key, spec):
        value = r.get(key)
        return format(value, spec) if isinstance(value, (int, float)) else "-"
    print(f"{name:<20}{f('population/size', '>6')}{f('train/steps', '>6')}{f('train/seconds', '>8.2f')}{f('ms_per_step', '>9.2f')}"
          f"{f('eval/seconds', '>8.2f')}{f('fit_seconds_per_member', '>13.5f')}{f('eval_seconds_per_member', '>14.5f')}"
          f"{f('train/recon', '>12.4g')}{f('val/recon', '>11.4g')}{f('eval/none/median_mse', '>11.4g')}  {r.get('train/device')}")
for name, value in ratios.items():
    print(f"{name}: {value:.4f}")
targets = {}  # issue 16: N = 1,024 members fit in ≤ 15 s and evaluated in ≤ 15 s on one GPU
for name in ("population", "graphs"):
    r = runs.get(name, {})
    if r.get("population/size") == 1024 and r.get("train/steps") == 3001:
        for key, label in (("train/seconds", "fit"), ("eval/seconds", "eval")):
            targets[f"{name} {label}"] = {"seconds": r[key], "met": r[key] <= 15}
            print(f"target {name} {label} ≤ 15 s: {r[key]:.2f} s, {'met' if r[key] <= 15 else 'NOT met'}")
summary["targets"] = targets
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
if "bench" in summary:
    b = summary["bench"]
    print("\nbench: " + " · ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in b.items()))
if "profile" in summary:
    p = summary["profile"]
    print(f"\nprofile ({p.get('steps')} steps, N = {p.get('population')} on {p.get('device')}): "
          f"{p.get('ms_per_step', float('nan')):.2f} ms/step wall; host syncs per step "
          f"{p.get('syncs_per_step', float('nan')):.2f}; host→device copies per step {p.get('h2d_per_step', float('nan')):.2f}")
    for row in p.get("top", [])[:12]:
        print(f"   {row['name'][:60]:<60} calls {row['calls']:>7} self CPU {row['self_cpu_ms']:>9.2f} ms  self CUDA {row['self_cuda_ms']:>9.2f} ms")
print(f"\nJSON: {out / 'summary.json'}")
EOF
[ $? -eq 0 ] || FAILED+=(summary)

[ ${#SKIPPED[@]} -gt 0 ] && echo "gpu-check: skipped for lack of time: ${SKIPPED[*]}" >&2
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "gpu-check: FAILED steps: ${FAILED[*]} (logs in $OUT/)" >&2
  exit 1
fi
echo "gpu-check: every step passed"
