#!/usr/bin/env bash
# Measures riffled next to its references on this machine, in one run, and prints the figures
# that docs/benchmarks.md records:
#   1. gRPC ingest (riffle-bench PutRecords) against RocksDB's own db_bench fillseq and against
#      Redis Streams (XADD, appendfsync always), for 100 B and 1 KiB records, synced and not;
#   2. the Kinesis HTTP API against kinesalite 3.3.3, with a Kinesis load generator given as
#      KINESIS_BENCH=/path/to/kinesis_bench.py (skipped when unset).
# Needs a built tree (scripts/test or scripts/run), and installs rocksdb-tools, redis-server and
# kinesalite (npm, into a temp dir) when missing. Writes only under a temp dir.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${RIFFLE_BUILD:-$ROOT/build}
RIFFLED=$BUILD/server/riffled/riffled
BENCH=$BUILD/client/bench/riffle-bench
WORK=$(mktemp -d /tmp/riffle-compare.XXXXXX)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

need() { command -v "$1" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
need db_bench rocksdb-tools
need redis-server redis-server

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_riffled() {  # $1 fsync mode; sets port and riffled_pid
  port=$(free_port)
  "$RIFFLED" --data-dir "$WORK/riffle-$1-$port" --kinesis-port 0 --grpc-port "$port" \
    --metrics-port 0 --fsync="$1" --shard-quotas=off >"$WORK/riffled-$port.log" 2>&1 &
  riffled_pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -r)"
echo "== gRPC ingest vs db_bench fillseq and Redis Streams =="
for sync in 0 1; do
  mode=$([ "$sync" = 1 ] && echo always || echo never)
  start_riffled "$mode"
  for size in 100 1024; do
    num=$([ "$sync" = 1 ] && echo 20000 || echo 1000000)
    db=$(db_bench --benchmarks=fillseq --num="$num" --value_size="$size" --sync="$sync" \
      --compression_type=lz4 --db="$WORK/db-$sync-$size" 2>/dev/null | awk '/^fillseq/{print $5}')
    rb=$("$BENCH" --endpoint "127.0.0.1:$port" --create --stream "b$size" --record-size "$size" \
      --batch-size 500 --concurrency 4 --duration "$SECONDS_PER_RUN" 2>/dev/null |
      awk '/^write:/{print $7}')
    rb1=$("$BENCH" --endpoint "127.0.0.1:$port" --create --stream "s$size" --record-size "$size" \
      --batch-size 1 --concurrency 16 --duration "$SECONDS_PER_RUN" 2>/dev/null |
      awk '/^write:/{print $7}')
    echo "fsync=$mode size=${size}B: db_bench fillseq ${db} ops/s (sync=$sync, 1 writer);" \
      "riffle PutRecords x500 c4 ${rb} records/s; riffle PutRecord c16 ${rb1} records/s"
  done
  kill "$riffled_pid"; wait "$riffled_pid" || true
done
for size in 100 1024; do
  rport=$(free_port)
  redis-server --port "$rport" --dir "$WORK" --appendonly yes --appendfsync always --save '' \
    --daemonize no >"$WORK/redis.log" 2>&1 &
  redis_pid=$!
  sleep 0.5
  value=$(head -c "$size" /dev/zero | tr '\0' x)
  for p in 500 1; do
    c=$([ "$p" = 1 ] && echo 16 || echo 4)
    n=$([ "$p" = 1 ] && echo 20000 || echo 400000)
    r=$(redis-benchmark -p "$rport" -n "$n" -c "$c" -P "$p" -q XADD bench '*' f "$value" 2>/dev/null |
      tr '\r' '\n' | awk '/requests per second/{for (i = 2; i <= NF; i++) if ($i == "requests") v = $(i - 1)} END{print v}')
    echo "redis XADD appendfsync=always size=${size}B pipeline=$p clients=$c: $r ops/s"
  done
  kill "$redis_pid"; wait "$redis_pid" || true
done

if [ -n "${KINESIS_BENCH:-}" ]; then
  echo "== Kinesis HTTP API: riffled (fsync=always) vs kinesalite 3.3.3 =="
  (cd "$WORK" && npm install --silent kinesalite@3.3.3 >/dev/null 2>&1)
  kport=$(free_port)
  python3 "$KINESIS_BENCH" --endpoint "http://127.0.0.1:$kport" --label riffled --out "$WORK/kb.jsonl" \
    --server-cmd "$RIFFLED --data-dir $WORK/kb-riffle --kinesis-port $kport --grpc-port 0 --metrics-port 0 --fsync=always --shard-quotas=off" \
    >/dev/null 2>&1
  kport=$(free_port)
  python3 "$KINESIS_BENCH" --endpoint "http://127.0.0.1:$kport" --label kinesalite --out "$WORK/kb.jsonl" \
    --server-cmd "node $WORK/node_modules/kinesalite/cli.js --port $kport --path $WORK/kb-kl --createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0" \
    >/dev/null 2>&1
  python3 - "$WORK/kb.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"{'phase':14} {'server':11} {'records/s':>10} {'p50 ms':>8} {'RSS max MB':>10} {'lost':>5}")
for r in rows:
    if r["phase"] in ("meta", "end", "warmup"):
        continue
    lat = r.get("latency") or r.get("batch_latency") or r.get("call_latency") or r.get("put_to_visible") or {}
    rss = (r.get("server") or {}).get("rss_max_kb") or r.get("rss_before_kill_kb") or 0
    rate = r.get("records_per_s") or ""
    print(f"{r['phase']:14} {r['label']:11} {rate!s:>10} {lat.get('p50_ms', '')!s:>8} "
          f"{rss / 1024:>10.0f} {r.get('acked_lost', '')!s:>5}")
PY
fi
