#!/usr/bin/env bash
# What replication costs (issue 14): the same gRPC load against one riffled, and against three
# nodes on this machine with every shard on all three (--replication-factor 3), in one run.
# Rows: PutRecords 500 x 1 KiB with 4 producers, PutRecord 100 B with 8 producers, and
# PutRecord 100 B with 1 producer (its p50 latency minus the single node's is what a majority
# round trip adds). Every node runs --fsync=always; the load goes to node 1, which leads some
# shards and forwards the rest. Prints each cluster figure as a share of the single node's and a
# markdown table for docs/benchmarks.md.
# Needs a built tree; installs etcd-server when missing. Env: SECONDS_PER_RUN (default 8),
# RIFFLE_BUILD, SHARDS (default 4), REPLICATION_FACTOR (default 3; 1 measures forwarding alone:
# issue 13's row is SHARDS=12 REPLICATION_FACTOR=1 BENCH_ROWS="batch500x1k 1024 500 4").
# Run it alone on the machine: flock /tmp/riffle-build.lock bench/cluster.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${RIFFLE_BUILD:-$ROOT/build}
RIFFLED=$BUILD/server/riffled/riffled
BENCH=$BUILD/client/bench/riffle-bench
CLI=$BUILD/client/cli/riffle
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
SHARDS=${SHARDS:-4}
REPLICATION_FACTOR=${REPLICATION_FACTOR:-3}
WORK=$(mktemp -d /tmp/riffle-cluster-bench.XXXXXX)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for binary in "$RIFFLED" "$BENCH" "$CLI"; do
  [ -x "$binary" ] || { echo "missing $binary: build first (scripts/test or scripts/run)" >&2; exit 2; }
done
if ! command -v etcd >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq etcd-server >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return; sleep 0.1; done; echo "no $1" >&2; exit 1; }
grpc_port_of() { sed -n 's/.*"grpc": *\([0-9]*\).*/\1/p' "$1"; }

start_single() {  # sets endpoint
  "$RIFFLED" --data-dir "$WORK/single" --kinesis-port 0 --grpc-port 0 --metrics-port 0 \
    --console-port 0 --fsync=always --shard-quotas=off --ports-file "$WORK/single.ports" \
    >"$WORK/single.log" 2>&1 &
  pids+=($!)
  wait_file "$WORK/single.ports"
  endpoint=127.0.0.1:$(grpc_port_of "$WORK/single.ports")
}

start_cluster() {  # sets endpoint (node 1)
  local client peer i grpc
  client=$(free_port) peer=$(free_port)
  etcd --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "default=http://127.0.0.1:$peer" >"$WORK/etcd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$client") 2>/dev/null && break; sleep 0.1; done
  for i in 1 2 3; do
    grpc=$(free_port)
    "$RIFFLED" --data-dir "$WORK/n$i" --kinesis-port 0 --grpc-port "$grpc" --metrics-port 0 \
      --console-port 0 --fsync=always --shard-quotas=off --ports-file "$WORK/n$i.ports" \
      --etcd-endpoints "http://127.0.0.1:$client" --node-id "n$i" \
      --advertise-addr "127.0.0.1:$grpc" --replication-factor "$REPLICATION_FACTOR" \
      >"$WORK/n$i.log" 2>&1 &
    pids+=($!)
    wait_file "$WORK/n$i.ports"
    [ "$i" = 1 ] && endpoint=127.0.0.1:$grpc
    sleep 0.5
  done
}

stop_all() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  pids=()
}

declare -A rate=() p50=()
run() {  # $1 setup, $2 row, $3 record bytes, $4 records per call, $5 producers
  local key=$1/$2 out
  "$CLI" --endpoint "$endpoint" stream create "$2" --shards "$SHARDS" >/dev/null
  for _ in $(seq 100); do
    "$CLI" --endpoint "$endpoint" --json stream describe "$2" | grep -q '"ACTIVE"' && break
    sleep 0.1
  done
  sleep 1  # leaders take their shards over
  out=$("$BENCH" --endpoint "$endpoint" --stream "$2" --record-size "$3" --batch-size "$4" \
    --concurrency "$5" --duration "$SECONDS_PER_RUN" --json)
  read -r rate["$key"] p50["$key"] < <(python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["phase"] == "write":
        print(r["records_per_sec"], r["latency_ms"]["p50"])' <<<"$out")
  printf '  %-8s %-14s %10.0f records/s, p50 %s ms per call\n' "$1" "$2" "${rate[$key]}" \
    "${p50[$key]}"
}

# name, record bytes, records per call, producers; BENCH_ROWS="name bytes batch producers;..."
IFS=';' read -ra rows <<<"${BENCH_ROWS:-batch500x1k 1024 500 4;put100b-8 100 1 8;put100b-1 100 1 1}"
echo "single node (--fsync=always):"
start_single
for row in "${rows[@]}"; do run single $row; done
stop_all
echo "three nodes, replication factor $REPLICATION_FACTOR (--fsync=always on each):"
start_cluster
for row in "${rows[@]}"; do run cluster $row; done
stop_all

echo
echo "| load (gRPC, $SHARDS shards, load into node 1) | 1 node | 3 nodes, RF $REPLICATION_FACTOR | share |"
echo "|---|---|---|---|"
for row in "${rows[@]}"; do
  set -- $row
  printf '| %s | %.0f/s (p50 %s ms) | %.0f/s (p50 %s ms) | %.0f %% |\n' "$1" \
    "${rate[single/$1]}" "${p50[single/$1]}" "${rate[cluster/$1]}" "${p50[cluster/$1]}" \
    "$(awk "BEGIN { print 100 * ${rate[cluster/$1]} / ${rate[single/$1]} }")"
done
if [ -n "${rate[single/put100b-1]:-}" ]; then
  echo "added p50 latency of a cluster PutRecord (1 producer): $(awk \
    "BEGIN { print ${p50[cluster/put100b-1]} - ${p50[single/put100b-1]} }") ms"
fi
