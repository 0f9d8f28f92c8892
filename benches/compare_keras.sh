#!/usr/bin/env bash
# Trains the bAbI memory network (--model memnn), Keras's MNIST convnet (--model cnn) or MLP (--model mlp), the transformer
# classifier (--model transformer), the Reuters recurrent classifier (--model reuters-rnn) or an LSTM / GRU classifier
# (--model lstm, --model gru) with
# Keras/TensorFlow, Keras/JAX and rkeras on the same data and machine, alternating runs, and prints rkeras's ratio
# of training samples/s and of peak resident memory against each.
#
#   benches/compare_keras.sh [--model memnn|cnn|mlp|transformer|reuters-rnn|lstm|gru] [--epochs 5] [--rounds 1] [--data DIR] [--seed 1] [--threads 2]
#                            [--train-samples 3840] [--out DIR]
#
# --threads sets TensorFlow's intra-op threads (default 2) and, when given, rkeras's thread pool (default: one
# thread per core) and its shards per batch (one per thread, so each thread trains a slice of every batch). The Keras references are ../shared/ref/keras_babi_memnn.py (next to this repository) and
# benches/keras_mnist.py; the convnet trains on the first --train-samples MNIST training images of
# ../shared/datasets/mnist (or --data) and validates on the first 1,000 test images, batch 128, Adadelta 1.0;
# the MLP (Dense 512 relu, Dropout 0.2, twice, Dense 10 softmax) on the same images flattened, RMSprop.
# The transformer trains on rkeras-bench's synthetic sequences (2,000 training, 200 validation, 200 ids below
# 10,000; benches/keras_transformer.py generates the same ids), Adam, batch 32; --data does not apply.
# reuters-rnn (masked Embedding, Bidirectional GRU(32)) trains on the same ids padded with zeros in front, 20 to
# 200 kept (benches/keras_reuters_rnn.py), Adam, batch 32; --data does not apply. lstm and gru (LSTM(64) or GRU(64) over
# 20 steps of 32 features, Dense 10 softmax, Adam, batch 32) train on 5,000 synthetic samples (benches/keras_recurrent.py:
# the same shapes and distribution as rkeras-bench's, not the same draws); --data does not apply.
# $RKERAS_BENCH names an rkeras-bench binary to use instead of building one. Python is $KERAS_PYTHON, else the virtual environment .venv-keras-bench with
# tensorflow-cpu 2.21.0, jax[cpu] and h5py, created under the repository when missing (about 3 minutes).
# Throughput is each run's median epoch after the first, validation pass included, per wall-clock second and
# (all but the memory network) per CPU-second of the process's threads, which a busy machine distorts far
# less; peak memory is /usr/bin/time's "Maximum resident set size" for every framework; start-to-first-batch runs
# from the process's start (/proc, 10 ms resolution) to the first on_train_batch_begin.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
model=memnn
data=""
train_samples=3840
epochs=5
rounds=1
seed=1
threads=2
rkeras_threads=(--shards "$(nproc)")  # rkeras uses every core, one shard each, unless --threads is given
out=""

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --model) model="$2"; shift 2 ;;
        --train-samples) train_samples="$2"; shift 2 ;;
        --epochs) epochs="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --data) data="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --threads) threads="$2"; rkeras_threads=(--threads "$2" --shards "$2"); shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$model" in
    memnn) data="${data:-$here/../../shared/datasets/babi/tasks_1-20_v1-2/en-10k}" ;;
    cnn | mlp) data="${data:-$here/../../shared/datasets/mnist}" ;;
    transformer | reuters-rnn | lstm | gru) data="" ;;
    *) echo "unknown --model $model (memnn, cnn, mlp, transformer, reuters-rnn, lstm or gru)" >&2; exit 2 ;;
esac
data_args=()
if [[ -n "$data" ]]; then
    data="$(cd "$data" && pwd)"
    data_args=(--data "$data")
fi
out="${out:-$(mktemp -d -t compare-keras.XXXXXX)}"
mkdir -p "$out"
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

venv="$repo/.venv-keras-bench"
py="${KERAS_PYTHON:-$venv/bin/python}"
if ! [[ -x "$py" ]] || ! "$py" -c "import tensorflow, jax, h5py" 2>/dev/null; then
    echo "setting up $venv (tensorflow-cpu 2.21.0, jax[cpu], h5py; a few minutes)…"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet tensorflow-cpu==2.21.0 "jax[cpu]" h5py
    py="$venv/bin/python"
fi

bench="${RKERAS_BENCH:-}"  # a built rkeras-bench to use as it is; by default it is built here
if [[ -z "$bench" ]]; then
    echo "building rkeras-bench…"
    (cd "$repo" && cargo build --release --quiet -p rkeras-bench)
    bench="$repo/target/release/rkeras-bench"
fi

# Runs the Keras script with a hook that records when the first training batch begins, measured from the
# process's start; the script itself is unchanged.
keras_hook='
import json, os, runpy, sys
def since_exec():
    with open("/proc/self/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - ticks / os.sysconf("SC_CLK_TCK")
import keras
original = keras.callbacks.Callback.on_train_batch_begin
seen = []
def on_train_batch_begin(self, batch, logs=None):
    if not seen:
        seen.append(since_exec())
        with open(os.environ["FIRST_BATCH_JSON"], "w") as f:
            json.dump({"start_to_first_batch_ms": round(seen[0] * 1e3)}, f)
    return original(self, batch, logs)
keras.callbacks.Callback.on_train_batch_begin = on_train_batch_begin
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'

run_keras() {  # backend, tag
    local backend="$1" tag="$2"
    echo "  $tag: Keras/$backend…"
    cpu_jiffies >"$out/$tag.cpu"
    FIRST_BATCH_JSON="$out/$tag.first.json" KERAS_BACKEND="$backend" TF_CPP_MIN_LOG_LEVEL=2 \
        /usr/bin/time -v -o "$out/$tag.time" \
        "$py" -c "$keras_hook" "${keras_script[@]}" "${data_args[@]}" --epochs "$epochs" \
        --seed "$seed" --threads "$threads" --summary-json "$out/$tag.json" >"$out/$tag.log" 2>&1 ||
        { echo "Keras/$backend failed; see $out/$tag.log" >&2; exit 1; }
    cpu_jiffies >>"$out/$tag.cpu"
}

run_rkeras() {  # tag
    local tag="$1"
    echo "  $tag: rkeras…"
    cpu_jiffies >"$out/$tag.cpu"
    /usr/bin/time -v -o "$out/$tag.time" \
        "$bench" "${rkeras_workload[@]}" "${data_args[@]}" --epochs "$epochs" --seed "$seed" "${rkeras_threads[@]}" --json \
        >"$out/$tag.json" 2>"$out/$tag.log" || { echo "rkeras failed; see $out/$tag.log" >&2; exit 1; }
    cpu_jiffies >>"$out/$tag.cpu"
}

if [[ "$model" == cnn ]]; then
    keras_script=("$here/keras_mnist.py" --model cnn --train-samples "$train_samples")
    rkeras_workload=(cnn --train-samples "$train_samples")
elif [[ "$model" == mlp ]]; then
    keras_script=("$here/keras_mnist.py" --model mlp --train-samples "$train_samples")
    rkeras_workload=(mnist-mlp --train-samples "$train_samples")
elif [[ "$model" == transformer ]]; then
    keras_script=("$here/keras_transformer.py")
    rkeras_workload=(transformer)
elif [[ "$model" == reuters-rnn ]]; then
    keras_script=("$here/keras_reuters_rnn.py")
    rkeras_workload=(reuters-rnn)
elif [[ "$model" == lstm || "$model" == gru ]]; then
    keras_script=("$here/keras_recurrent.py" --layer "$model")
    rkeras_workload=("$model")
else
    keras_script=("$(cd "$here/../../shared/ref" && pwd)/keras_babi_memnn.py")
    rkeras_workload=(memnn)
fi

# Busy and total CPU time of the whole machine so far, in clock ticks (the "cpu" line of /proc/stat).
cpu_jiffies() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model: $model · data: ${data:-synthetic} · $epochs epochs · seed $seed · results in $out"
runners=(tf jax rkeras)
for ((round = 1; round <= rounds; round++)); do
    echo "round $round"
    for ((i = 0; i < 3; i++)); do
        # Rotate the order each round so that no framework always runs first.
        case "${runners[$(((i + round - 1) % 3))]}" in
            tf) run_keras tensorflow "tf-r$round" ;;
            jax) run_keras jax "jax-r$round" ;;
            rkeras) run_rkeras "rkeras-r$round" ;;
        esac
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$py" - "$out" "$rounds" <<'EOF'
import json, os, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])

def peak_mb(tag):
    text = open(f"{out}/{tag}.time").read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024

def others_cpu(tag):
    """The share of the machine's CPU time that other processes used during the run, in %."""
    (busy0, total0), (busy1, total1) = [map(int, line.split()) for line in open(f"{out}/{tag}.cpu")]
    text = open(f"{out}/{tag}.time").read()
    own = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", text).group(1)) for kind in ("User", "System"))
    ticks = os.sysconf("SC_CLK_TCK")
    return max(0.0, 100 * (busy1 - busy0 - own * ticks) / (total1 - total0))

def figures(name, tag):
    summary = json.load(open(f"{out}/{tag}.json"))
    if name == "rkeras":
        first = summary.get("start_to_first_batch_ms")
        val = summary.get("last_epoch", {}).get("val_accuracy")
    else:
        try:
            first = json.load(open(f"{out}/{tag}.first.json"))["start_to_first_batch_ms"]
        except OSError:
            first = None
        val = summary["history"][-1].get("val_accuracy")
    return {"sps": summary["train_samples_per_sec"], "cpu": summary.get("train_samples_per_cpu_sec"),
            "rss": peak_mb(tag), "first": first, "val": val, "others": others_cpu(tag)}

names = [("rkeras", "rkeras"), ("Keras/TensorFlow", "tf"), ("Keras/JAX", "jax")]
rows = {name: [figures(name, f"{tag}-r{r}") for r in range(1, rounds + 1)] for name, tag in names}
fmt = lambda v, spec: "—" if v is None else format(v, spec)
print()
print("| framework | round | samples/s | rkeras ÷ it | samples per CPU-second | rkeras ÷ it | peak RSS (MB) "
      "| it ÷ rkeras | start to first batch (ms) | last val acc | CPU used by other processes |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
ratio = lambda a, b: "—" if a is None or b is None else f"{a / b:.2f}×"
for name, _ in names:
    for r, f in enumerate(rows[name]):
        mine = rows["rkeras"][r]
        print(f"| {name} | {r + 1} | {f['sps']:,.0f} | {mine['sps'] / f['sps']:.2f}× | {fmt(f['cpu'], ',.0f')} | "
              f"{ratio(mine['cpu'], f['cpu'])} | {f['rss']:.0f} | "
              f"{f['rss'] / mine['rss']:.1f}× | {fmt(f['first'], ',.0f')} | {fmt(f['val'], '.3f')} | {f['others']:.0f} % |")
print()
# Rounds in which other processes took more than 10 % of the machine during any of the three runs are left
# out of the medians (unless every round was busy).
quiet = [r for r in range(rounds) if all(rows[name][r]["others"] <= 10 for name, _ in names)]
used = quiet or list(range(rounds))
which = f"{len(used)} of {rounds} rounds" + ("" if quiet else ", all under load")
if quiet and len(quiet) < rounds:
    which += f"; left out, under load: {', '.join(str(r + 1) for r in range(rounds) if r not in quiet)}"
for name, _ in names[1:]:
    speed = statistics.median(rows["rkeras"][r]["sps"] / rows[name][r]["sps"] for r in used)
    memory = statistics.median(rows[name][r]["rss"] / rows["rkeras"][r]["rss"] for r in used)
    cpu = [rows["rkeras"][r]["cpu"] / rows[name][r]["cpu"] for r in used
           if rows["rkeras"][r]["cpu"] and rows[name][r]["cpu"]]
    per_cpu = f", {statistics.median(cpu):.2f}× the samples per CPU-second" if cpu else ""
    print(f"rkeras vs {name}: {speed:.2f}× the samples/s{per_cpu}, {memory:.1f}× less peak memory "
          f"(median of {which})")
EOF
