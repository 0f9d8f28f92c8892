#!/usr/bin/env bash
# Two ranks against one with one thread per rank (issue 19's ≥ 1.8×), side by side: for each workload and
# round, one rank, then two ranks with the sharded optimizer step, then two ranks stepping the whole model
# (`--whole-optimizer`). One line per run: samples/s and rank 0's mean step (compute / encode / exchange /
# decode + sum µs, the sharded optimizer step inside decode + sum; then the step profile's optimizer µs). Build first:
#   cargo build --release -p rkeras-bench --features rkeras-bench/mpi
# Usage: scripts/mpi_scaling.sh [ROUNDS] [BATCH]   (BATCH: the memory network's batch, default 32)
# MPI_EXTRA adds mpirun options, e.g. MPI_EXTRA="--mca mpi_yield_when_idle 1" on a loaded machine.
set -euo pipefail
rounds=${1:-2}
batch=${2:-32}
B=${RKERAS_BENCH:-target/release/rkeras-bench}
MNIST=${MNIST:-../shared/datasets/mnist}
# shellcheck disable=SC2206
M=(mpirun -np 2 --allow-run-as-root --oversubscribe --mca btl self,vader -x RAYON_NUM_THREADS=1 ${MPI_EXTRA:-})
memnn=(memnn --generate 1000 --epochs 3 --shards 2 --threads 1 --batch-size "$batch" --json)
cnn=(cnn --data "$MNIST" --train-samples 2560 --validation-samples 256 --epochs 2 --shards 2 --threads 1 --json)

summary() {
    tail -n 1 | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
s = d.get("distributed")
opt = d["batch_micros"]["optimizer"]
step = " · optimizer %s µs" % opt if s is None else " · step %s / %s / %s / %s + optimizer %s µs" % (
    s["compute_us"], s["encode_us"], s["exchange_us"], s["decode_and_sum_us"], opt)
print("%s samples/s%s" % (d["train_samples_per_sec"], step))'
}

for round in $(seq 1 "$rounds"); do
    for w in memnn cnn; do
        declare -n args=$w
        echo "round $round, $w, load $(cut -d' ' -f1 /proc/loadavg)"
        printf '  one rank:              '; RAYON_NUM_THREADS=1 "$B" "${args[@]}" | summary
        printf '  two ranks, sharded:    '; "${M[@]}" "$B" "${args[@]}" --distributed 2>/dev/null | summary
        printf '  two ranks, whole step: '; "${M[@]}" "$B" "${args[@]}" --distributed --whole-optimizer 2>/dev/null | summary
    done
done
