#!/usr/bin/env bash
# The per-task tables of the two bAbI examples (examples/babi_memnn, examples/babi_rnn) on en-10k: trains and
# tests each task in turn (qa3 from `en`, whose 1,000 training questions are the only qa3 training file in
# ../shared), then prints the table in docs/results.md's form from the runs' summaries. Runs that already have
# their summary are not repeated, so an interrupted loop resumes where it stopped.
#
#   scripts/babi_tasks.sh memnn|rnn [OUT_DIR] [TASKS...]
#     OUT_DIR  where qaN.json (and qaN.csv, one line per epoch) go; default babi_<example>_tasks
#     TASKS    task numbers; default 1 … 20
#   Environment: BIN (default target/release/examples/babi_<example>), BABI (default
#   ../shared/datasets/babi/tasks_1-20_v1-2), EPOCHS (default: the example's own, 120 for memnn and 40 for rnn),
#   SEED (default 1), SHARDS (default 2: the same bits on one or two threads).
#
# The tables in docs/results.md:
#   cargo build --release --example babi_memnn --example babi_rnn
#   scripts/babi_tasks.sh memnn
#   scripts/babi_tasks.sh rnn
set -euo pipefail
example=${1:?usage: scripts/babi_tasks.sh memnn|rnn [OUT_DIR] [TASKS...]}
case "$example" in
    memnn | rnn) ;;
    *) echo "unknown example '$example' (memnn or rnn)" >&2; exit 2 ;;
esac
shift
out=${1:-babi_${example}_tasks}
shift || true
tasks=("$@")
[ ${#tasks[@]} -eq 0 ] && tasks=($(seq 1 20))
bin=${BIN:-target/release/examples/babi_$example}
babi=${BABI:-../shared/datasets/babi/tasks_1-20_v1-2}
seed=${SEED:-1}
shards=${SHARDS:-2}
epochs=()
[ -n "${EPOCHS:-}" ] && epochs=(--epochs "$EPOCHS")
mkdir -p "$out"
for n in "${tasks[@]}"; do
    data="$babi/en-10k"
    ls "$data"/qa${n}_*_train.txt >/dev/null 2>&1 || data="$babi/en"
    [ -s "$out/qa$n.json" ] && continue
    start=$(date +%s)
    "$bin" --data "$data" --task "qa$n" "${epochs[@]}" --seed "$seed" --shards "$shards" --verbose 0 \
        --csv "$out/qa$n.csv" --summary-json "$out/qa$n.tmp.json" > "$out/qa$n.log"
    mv "$out/qa$n.tmp.json" "$out/qa$n.json"
    echo "qa$n: $(( $(date +%s) - start )) s" >&2
done
python3 - "$example" "$out" "${tasks[@]}" <<'PY'
import json, os, sys
example, out, tasks = sys.argv[1], sys.argv[2], sys.argv[3:]
# babi_rnn's reference columns, in per cent: the test accuracies listed in the docstring of Keras's
# examples/babi_rnn.py, and the LSTM baseline of Weston et al., "Towards AI-Complete Question Answering" (2015),
# that the docstring lists beside them.
keras_docstring = [100.0, 50.0, 20.5, 62.9, 61.9, 50.7, 78.9, 77.2, 64.0, 47.7,
                   74.9, 76.4, 94.4, 34.8, 32.4, 50.6, 49.1, 90.8, 9.0, 90.7]
fb_lstm_baseline = [50, 20, 20, 61, 70, 48, 49, 45, 64, 44, 72, 74, 94, 27, 21, 23, 51, 52, 8, 91]
references = example == "rnn"
header = "| task | data | train questions | story length | epochs | test accuracy | test loss | samples/s | wall time |"
if references:
    header += " Keras (docstring, %) | FB LSTM baseline (%) |"
print(header)
print("|---" * (header.count("|") - 1) + "|")
accuracies = []
for n in tasks:
    path = os.path.join(out, f"qa{n}.json")
    refs = f" {keras_docstring[int(n) - 1]} | {fb_lstm_baseline[int(n) - 1]} |" if references else ""
    if not os.path.exists(path):
        print(f"| qa{n} | | | | | not run | | | |{refs}")
        continue
    s = json.load(open(path))
    accuracies.append(s["test_accuracy"])
    data = "en †" if s["data"].rstrip("/").endswith("/en") else "en-10k"
    print(f"| qa{n} | {data} | {s['train_samples']:,} | {s.get('story_maxlen', '')} | {len(s.get('history', []))} | "
          f"{s['test_accuracy']:.3f} | {s['test_loss']:.4f} | {s['train_samples_per_sec']:,.0f} | {s['wall_seconds']:.0f} s |{refs}")
if accuracies:
    print(f"\n{len(accuracies)} tasks run, mean test accuracy {sum(accuracies) / len(accuracies):.3f}")
PY
