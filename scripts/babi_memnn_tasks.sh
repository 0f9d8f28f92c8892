#!/usr/bin/env bash
# The per-task table of examples/babi_memnn on bAbI en-10k: trains and tests each task in turn (qa3 from `en`,
# whose 1,000 training questions are the only qa3 training file in ../shared), then prints the table in
# docs/results.md's form from the runs' summaries. Runs that already have their summary are not repeated.
#
#   scripts/babi_memnn_tasks.sh [OUT_DIR] [TASKS...]
#     OUT_DIR  where qaN.json (and qaN.csv, one line per epoch) go; default babi_memnn_tasks
#     TASKS    task numbers; default 1 … 20
#   Environment: BIN (default target/release/examples/babi_memnn), BABI (default
#   ../shared/datasets/babi/tasks_1-20_v1-2), EPOCHS (default 120), SEED (default 1).
#
# The table used in docs/results.md:
#   cargo build --release --example babi_memnn
#   nice -n 10 env RAYON_NUM_THREADS=1 scripts/babi_memnn_tasks.sh
set -euo pipefail
out=${1:-babi_memnn_tasks}
shift || true
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && tasks=($(seq 1 20))
bin=${BIN:-target/release/examples/babi_memnn}
babi=${BABI:-../shared/datasets/babi/tasks_1-20_v1-2}
epochs=${EPOCHS:-120}
seed=${SEED:-1}
mkdir -p "$out"
for n in "${tasks[@]}"; do
    data="$babi/en-10k"
    ls "$data"/qa${n}_*_train.txt >/dev/null 2>&1 || data="$babi/en"
    [ -s "$out/qa$n.json" ] && continue
    start=$(date +%s)
    "$bin" --data "$data" --task "qa$n" --epochs "$epochs" --seed "$seed" --verbose 0 \
        --csv "$out/qa$n.csv" --summary-json "$out/qa$n.tmp.json" > "$out/qa$n.log"
    mv "$out/qa$n.tmp.json" "$out/qa$n.json"
    echo "qa$n: $(( $(date +%s) - start )) s" >&2
done
python3 - "$out" "${tasks[@]}" <<'PY'
import json, os, sys
out, tasks = sys.argv[1], sys.argv[2:]
print("| task | data | train questions | story length | test accuracy | test loss | samples/s | wall time |")
print("|---|---|---|---|---|---|---|---|")
for n in tasks:
    path = os.path.join(out, f"qa{n}.json")
    if not os.path.exists(path):
        print(f"| qa{n} | | | | not run | | | |")
        continue
    s = json.load(open(path))
    data = "en †" if s["data"].rstrip("/").endswith("/en") else "en-10k"
    print(f"| qa{n} | {data} | {s['train_samples']:,} | {s['story_maxlen']} | {s['test_accuracy']:.3f} | "
          f"{s['test_loss']:.4f} | {s['train_samples_per_sec']:,.0f} | {s['wall_seconds']:.0f} s |")
PY
