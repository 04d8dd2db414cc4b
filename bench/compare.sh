#!/usr/bin/env bash
# Measures riffled against the references of the write-path targets (issue 12) in one run on this
# machine, prints each figure as a ratio to its reference measured in the same run, and ends with
# a markdown table for docs/benchmarks.md. Every figure has an fsync before each acknowledgement
# (riffled --fsync=always, db_bench --sync=1, redis appendfsync always):
#   1. gRPC PutRecord 100 B, 1 producer      vs db_bench fillseq, 1 thread, value 100 B;
#   2. gRPC and Kinesis HTTP PutRecord 100 B, 8 and 64 producers
#                                            vs Redis 7 Streams XADD, 8 and 64 clients, 100 B;
#   3. PutRecords 500 x 1 KiB, gRPC and Kinesis HTTP, 4 producers
#                                            vs db_bench fillseq --batch_size=500, 4 threads;
#   4. riffled CPU (utime + stime from /proc/PID/stat) per record over the gRPC 8-producer and the
#      Kinesis HTTP 64-connection PutRecord runs;
#   5. the Kinesis HTTP API against kinesalite 3.3.3, with a Kinesis load generator given as
#      KINESIS_BENCH=/path/to/kinesis_bench.py (skipped when unset).
# gRPC load comes from riffle-bench, Kinesis HTTP load from wrk with bench/wrk/put_record.lua and
# bench/wrk/put_records.lua (a row fails when any answer is not 200 or a record failed).
# Each riffled, redis-server and db_bench starts on a fresh directory under one temp dir, on ports
# chosen at run time; all of it is removed, and every process started here killed, on exit.
# Needs a built tree (scripts/test or scripts/run); installs wrk, redis-server, redis-tools and
# rocksdb-tools with apt-get when missing. Env: SECONDS_PER_RUN (default 8), RIFFLE_BUILD.
# Exits 1 when a row failed. The machine is shared: run it as
#   flock /tmp/riffle-build.lock bench/compare.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${RIFFLE_BUILD:-$ROOT/build}
RIFFLED=$BUILD/server/riffled/riffled
BENCH=$BUILD/client/bench/riffle-bench
CLI=$BUILD/client/cli/riffle
WRK_SCRIPTS=$ROOT/bench/wrk
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
WORK=$(mktemp -d /tmp/riffle-compare.XXXXXX)
cleanup() {
  local pids
  mapfile -t pids < <(jobs -p)
  if [ "${#pids[@]}" -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for binary in "$RIFFLED" "$BENCH" "$CLI"; do
  [ -x "$binary" ] || { echo "missing $binary: build first (scripts/test or scripts/run)" >&2; exit 2; }
done

SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
need() {  # $1 command, $2 Debian package that has it
  command -v "$1" >/dev/null 2>&1 && return
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq "$2" >/dev/null; }
}
need db_bench rocksdb-tools
need redis-server redis-server
need redis-benchmark redis-tools
need wrk wrk

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
calc() { awk "BEGIN { print ($1) }"; }  # calc 'EXPRESSION' -> its value
commas() {  # 12345.6 -> 12,346
  awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); out = ""
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    print s out }'
}

# Results by row: rate[ROW] records/s, cpu[ROW] riffled CPU µs per record, failed[ROW] why not.
declare -A rate=() cpu=() failed=()
fail() { failed[$1]=$2; echo "  FAILED: $2"; }

# --- riffled: a fresh one per row, so each row starts from an empty database ---------------------
start_riffled() {  # sets riffled_pid, grpc, kinesis_url
  local dir
  dir=$(mktemp -d "$WORK/riffled.XXXX")
  "$RIFFLED" --data-dir "$dir/data" --kinesis-port 0 --grpc-port 0 --metrics-port 0 \
    --fsync=always --shard-quotas=off --ports-file "$dir/ports.json" >"$dir/log" 2>&1 &
  riffled_pid=$! riffled_dir=$dir
  for _ in $(seq 100); do
    [ -s "$dir/ports.json" ] && break
    kill -0 "$riffled_pid" 2>/dev/null || { cat "$dir/log" >&2; exit 1; }
    sleep 0.1
  done
  grpc=127.0.0.1:$(sed -n 's/.*"grpc": *\([0-9]*\).*/\1/p' "$dir/ports.json")
  kinesis_url=http://127.0.0.1:$(sed -n 's/.*"kinesis": *\([0-9]*\).*/\1/p' "$dir/ports.json")/
}
stop_riffled() {
  kill "$riffled_pid" 2>/dev/null || true
  wait "$riffled_pid" 2>/dev/null || true
  rm -rf "$riffled_dir"
}
create_stream() {  # $1 name: ON_DEMAND (4 shards, as riffle-bench --create), then wait for ACTIVE
  "$CLI" --endpoint "$grpc" stream create "$1" --on-demand >/dev/null
  for _ in $(seq 100); do
    "$CLI" --endpoint "$grpc" --json stream describe "$1" | grep -q '"ACTIVE"' && return
    sleep 0.1
  done
  echo "stream $1 is not ACTIVE after 10 s" >&2
  exit 1
}
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }  # utime + stime
TICK=$(getconf CLK_TCK)
cpu_per_record() {  # $1 ticks before, $2 ticks after, $3 records -> µs of CPU per record
  calc "($2 - $1) / $TICK * 1e6 / $3"
}

grpc_row() {  # $1 row, $2 record bytes, $3 records per call, $4 producers
  local row=$1 out before after records
  echo "riffle gRPC: riffle-bench --record-size $2 --batch-size $3 --concurrency $4"
  start_riffled
  create_stream "bench"
  before=$(cpu_ticks "$riffled_pid")
  if ! out=$("$BENCH" --endpoint "$grpc" --stream bench --record-size "$2" --batch-size "$3" \
      --concurrency "$4" --duration "$SECONDS_PER_RUN" --json 2>"$WORK/$row.err"); then
    fail "$row" "riffle-bench: $(tail -n 1 "$WORK/$row.err")"
    stop_riffled
    return
  fi
  after=$(cpu_ticks "$riffled_pid")
  stop_riffled
  read -r records rate["$row"] p99 < <(python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["phase"] == "write":
        print(r["records"], r["records_per_sec"], r["latency_ms"]["p99"])' <<<"$out")
  cpu[$row]=$(cpu_per_record "$before" "$after" "$records")
  printf '  %s records/s (%s records, p99 %s ms per call); riffled CPU %.1f µs/record\n' \
    "$(commas "${rate[$row]}")" "$(commas "$records")" "$p99" "${cpu[$row]}"
}

wrk_row() {  # $1 row, $2 wrk script, $3 connections, then the script's arguments after the stream
  local row=$1 script=$2 connections=$3 before after result records field
  shift 3
  echo "riffle Kinesis HTTP: wrk -t 2 -c $connections -s bench/wrk/$script -- bench $*"
  start_riffled
  create_stream "bench"
  before=$(cpu_ticks "$riffled_pid")
  if ! wrk -t 2 -c "$connections" -d "${SECONDS_PER_RUN}s" --timeout 10s \
      -s "$WRK_SCRIPTS/$script" "$kinesis_url" -- bench "$@" >"$WORK/$row.out" 2>&1; then
    fail "$row" "wrk: $(tail -n 1 "$WORK/$row.out")"
    stop_riffled
    return
  fi
  after=$(cpu_ticks "$riffled_pid")
  stop_riffled
  result=$(grep '^wrk_result ' "$WORK/$row.out") || { fail "$row" "no result from wrk"; return; }
  declare -A w=()
  for field in ${result#wrk_result }; do w[${field%%=*}]=${field#*=}; done
  records=$((w[requests] * w[records_per_request]))
  rate[$row]=$(calc "$records / ${w[seconds]}")
  cpu[$row]=$(cpu_per_record "$before" "$after" "$records")
  printf '  %s records/s (%s requests, p99 %s ms); non-200 answers: %s, answers with failed' \
    "$(commas "${rate[$row]}")" "$(commas "${w[requests]}")" "${w[p99_ms]}" "${w[non200]}"
  printf ' records: %s, socket errors: %s; riffled CPU %.1f µs/record\n' "${w[failed]}" \
    "${w[socket_errors]}" "${cpu[$row]}"
  grep '^wrk_first_error ' "$WORK/$row.out" | sed 's/^wrk_first_error /  first error: /' || true
  if [ "${w[non200]}" != 0 ] || [ "${w[failed]}" != 0 ] || [ "${w[socket_errors]}" != 0 ]; then
    fail "$row" "${w[non200]} non-200, ${w[failed]} with failed records, ${w[socket_errors]} socket errors"
  fi
}

# --- references -------------------------------------------------------------------------------
db_bench_fillseq() {  # $1 keys per thread, $2 threads, $3 batch, $4 value bytes -> "ops/s seconds"
  local dir
  dir=$(mktemp -d "$WORK/db.XXXX")
  db_bench --benchmarks=fillseq --sync=1 --num="$1" --threads="$2" --batch_size="$3" \
    --value_size="$4" --compression_type=lz4 --db="$dir" 2>/dev/null |
    awk '/^fillseq/ { print $5, $7 }'
  rm -rf "$dir"
}
db_bench_row() {  # $1 row, $2 threads, $3 batch, $4 value bytes
  local row=$1 probe num seconds
  echo "db_bench fillseq --sync=1 --threads=$2 --batch_size=$3 --value_size=$4"
  # fillseq has no duration: a short probe sizes --num to about SECONDS_PER_RUN.
  read -r probe _ < <(db_bench_fillseq $(($3 > 1 ? $3 * 20 : 1000)) "$2" "$3" "$4")
  num=$(calc "int($probe * $SECONDS_PER_RUN / $2 / $3 + 1) * $3")
  read -r rate["$row"] seconds < <(db_bench_fillseq "$num" "$2" "$3" "$4")
  [ -n "${rate[$row]}" ] || { fail "$row" "db_bench printed no fillseq result"; return; }
  echo "  $(commas "${rate[$row]}") ops/s ($(commas $((num * $2))) keys in $seconds s)"
}

VALUE_100=$(head -c 100 /dev/zero | tr '\0' x)
redis_xadd() {  # $1 port, $2 requests, $3 clients -> requests/s
  redis-benchmark -p "$1" -n "$2" -c "$3" -P 1 -q XADD bench '*' f "$VALUE_100" 2>/dev/null |
    tr '\r' '\n' |
    awk '/requests per second/ { for (i = 2; i <= NF; i++) if ($i == "requests") v = $(i - 1) } END { print v }'
}
redis_row() {  # $1 row, $2 clients
  local row=$1 port dir pid probe n
  echo "Redis XADD (appendonly yes, appendfsync always): redis-benchmark -c $2 -P 1, 100 B"
  dir=$(mktemp -d "$WORK/redis.XXXX")
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
    --appendfsync always --save '' --daemonize no >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  # redis-benchmark has no duration: a short probe sizes -n to about SECONDS_PER_RUN.
  probe=$(redis_xadd "$port" 5000 "$2")
  n=$(calc "int($probe * $SECONDS_PER_RUN)")
  rate[$row]=$(redis_xadd "$port" "$n" "$2")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  [ -n "${rate[$row]}" ] || { fail "$row" "redis-benchmark printed no result"; return; }
  echo "  $(commas "${rate[$row]}") requests/s ($(commas "$n") XADDs)"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(uname -r);" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "riffle: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown);" \
  "$(db_bench --version 2>&1 | head -n 1); $(redis-server --version | cut -d' ' -f1-3);" \
  "$(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2); ${SECONDS_PER_RUN} s per run"
echo "== PutRecord 100 B, 1 producer =="
db_bench_row db1 1 1 100
grpc_row grpc1 100 1 1
for producers in 8 64; do
  echo "== PutRecord 100 B, $producers producers =="
  redis_row "redis$producers" "$producers"
  grpc_row "grpc$producers" 100 1 "$producers"
  wrk_row "http$producers" put_record.lua "$producers" 100
done
echo "== PutRecords 500 x 1 KiB, 4 producers =="
db_bench_row db_batch 4 500 1024
grpc_row grpc_batch 1024 500 4
wrk_row http_batch put_records.lua 4 500 1024

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

# --- summary: one row per target of issue 12, ratios of this run's figures ---------------------
ratio_row() {  # $1 label, $2 row, $3 reference label, $4 reference row, $5 % or x, $6 threshold
  local measured=${rate[$2]:-} reference=${rate[$4]:-} ratio shown met
  if [ -n "${failed[$2]:-}" ] || [ -n "${failed[$4]:-}" ] || [ -z "$measured" ] || [ -z "$reference" ]; then
    printf '| %s | %s | %s | %s | — | %s | failed: %s |\n' "$1" "${measured:+$(commas "$measured")}" \
      "$3" "${reference:+$(commas "$reference")}" "$6" "${failed[$2]:-}${failed[$4]:-}"
    return
  fi
  ratio=$(calc "$measured / $reference")
  if [ "$5" = % ]; then
    shown=$(printf '%.0f %%' "$(calc "$ratio * 100")")
    met=$(calc "($ratio * 100 >= ${6//[!0-9.]/}) ? \"yes\" : \"no\"")
  else
    shown=$(printf '%.2f ×' "$ratio")
    met=$(calc "($ratio >= ${6//[!0-9.]/}) ? \"yes\" : \"no\"")
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(commas "$measured")" "$3" \
    "$(commas "$reference")" "$shown" "$6" "$met"
}
cpu_row() {  # $1 label, $2 row
  if [ -n "${failed[$2]:-}" ] || [ -z "${cpu[$2]:-}" ]; then
    printf '| %s | | | | — | ≤ 25 µs | failed: %s |\n' "$1" "${failed[$2]:-}"
    return
  fi
  printf '| %s | %.1f µs/record | | | — | ≤ 25 µs | %s |\n' "$1" "${cpu[$2]}" \
    "$(calc "(${cpu[$2]} <= 25) ? \"yes\" : \"no\"")"
}
REDIS="Redis XADD, appendfsync always"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== Summary (records/s; fsync before every acknowledgement; ${SECONDS_PER_RUN} s per figure) =="
echo
echo "| Riffle | measured | reference | measured | ratio | issue 12 target | met |"
echo "|---|---|---|---|---|---|---|"
ratio_row "gRPC PutRecord 100 B, 1 producer" grpc1 \
  "db_bench fillseq \`--sync=1\`, 1 thread" db1 % "≥ 90 %"
for producers in 8 64; do
  threshold=$([ "$producers" = 8 ] && echo "≥ 1.5 ×" || echo "≥ 2 ×")
  ratio_row "gRPC PutRecord 100 B, $producers producers" "grpc$producers" \
    "$REDIS, $producers clients" "redis$producers" x "$threshold"
  ratio_row "Kinesis HTTP PutRecord 100 B, $producers connections (wrk)" "http$producers" \
    "$REDIS, $producers clients" "redis$producers" x "$threshold"
done
ratio_row "gRPC PutRecords 500 × 1 KiB, 4 producers" grpc_batch \
  "db_bench fillseq \`--sync=1 --batch_size=500\`, 4 threads" db_batch % "≥ 80 %"
ratio_row "Kinesis HTTP PutRecords 500 × 1 KiB, 4 connections (wrk)" http_batch \
  "db_bench fillseq \`--sync=1 --batch_size=500\`, 4 threads" db_batch % "≥ 50 %"
cpu_row "riffled CPU per PutRecord, gRPC 8 producers" grpc8
cpu_row "riffled CPU per PutRecord, Kinesis HTTP 64 connections" http64
[ "${#failed[@]}" = 0 ]
