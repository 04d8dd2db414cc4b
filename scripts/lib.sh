# Shared by scripts/run and scripts/test: installs what is missing from Debian's packages and
# builds Riffle with CMake + Ninja. Sourced, not executed.
set -euo pipefail

RIFFLE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RIFFLE_BUILD=${RIFFLE_BUILD:-$RIFFLE_ROOT/build}
RIFFLE_BUILD_TYPE=${RIFFLE_BUILD_TYPE:-Release}

BUILD_PACKAGES=(cmake ninja-build pkg-config g++ librocksdb-dev libgrpc++-dev protobuf-compiler-grpc
  libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev libbenchmark-dev libboost1.81-dev
  libsimdjson-dev libssl-dev libcli11-dev libspdlog-dev libfmt-dev libnghttp2-dev
  prometheus-cpp-dev zlib1g-dev libtomlplusplus-dev)
# What the tests run besides Riffle: the cluster tests start a real etcd; the deploy tests
# check the alert rules with promtool and run the dashboard against a real Prometheus; the
# console tests drive the page in Debian's chromium (puppeteer-core never downloads a browser);
# the Go SDK test builds against Debian's aws-sdk-go v1 source in GOPATH mode (no module download).
TEST_PACKAGES=(etcd-server prometheus python3-yaml chromium golang-go
  golang-github-aws-aws-sdk-go-dev)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  [ "$#" -gt 0 ] || return 0
  echo "riffle: installing Debian packages: $*" >&2
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# Installs the packages of the list that are not installed yet.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  apt_install "${missing[@]}"
}

# Node.js with npm, found by command rather than by package: a Node.js from NodeSource brings
# its own npm, which Debian's npm package would conflict with.
node_packages_missing() {
  command -v node >/dev/null 2>&1 || echo nodejs
  command -v npm >/dev/null 2>&1 || echo npm
}

# Every configure of server/ needs them: the web console's page is bundled from npm packages.
ensure_node() {
  apt_install $(node_packages_missing)
}

# The clients the integration tests drive: boto3, the aws CLI, Node.js with npm.
ensure_test_clients() {
  local missing=()
  python3 -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)
  command -v aws >/dev/null 2>&1 || missing+=(awscli)
  missing+=($(node_packages_missing))
  apt_install "${missing[@]}"
}

# -Werror in CI (which sets CI=true); RIFFLE_WERROR=ON|OFF overrides.
RIFFLE_WERROR=${RIFFLE_WERROR:-$([ "${CI:-}" = true ] && echo ON || echo OFF)}

# On a machine where several people build at once, RIFFLE_BUILD_LOCK=/path/to/lockfile makes
# every configure and build take that flock(1) lock, so builds queue instead of competing.
locked() {
  if [ -n "${RIFFLE_BUILD_LOCK:-}" ]; then
    flock "$RIFFLE_BUILD_LOCK" "$@"
  else
    "$@"
  fi
}

build() {
  ensure_node
  locked cmake -S "$RIFFLE_ROOT" -B "$RIFFLE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE="$RIFFLE_BUILD_TYPE" \
    -DRIFFLE_WERROR="$RIFFLE_WERROR" >/dev/null
  locked cmake --build "$RIFFLE_BUILD" "$@"
}

# Sanitizer builds of the unit tests of common/, storage/ and server/ (RIFFLE_UNIT_TESTS_ONLY: no
# client/, no riffled integration tests), each in its own directory under the main build:
#   asan: AddressSanitizer + UndefinedBehaviorSanitizer, -Werror; any UB report fails the test.
#   tsan: ThreadSanitizer. -Wno-tsan: GCC warns once per Boost.Asio handler that TSan cannot
#         model the std::atomic_thread_fence in it (Asio orders its handlers with a mutex too).
# -O1 keeps the build and the tests quick; no -DNDEBUG, so assert() is checked too.
sanitizer_flags() {
  case "$1" in
    asan) echo "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
    tsan) echo "-fsanitize=thread -Wno-tsan" ;;
    *) echo "riffle: unknown sanitizer build '$1' (asan, tsan)" >&2; return 1 ;;
  esac
}

sanitizer_build() {
  local name=$1 flags werror=OFF
  flags=$(sanitizer_flags "$name")
  ensure_node
  if [ "$name" = asan ]; then
    werror=ON
  fi
  locked cmake -S "$RIFFLE_ROOT" -B "$RIFFLE_BUILD/$name" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DRIFFLE_WERROR="$werror" -DRIFFLE_UNIT_TESTS_ONLY=ON >/dev/null
  locked cmake --build "$RIFFLE_BUILD/$name" --target riffle_unit_tests
}

# Runs the unit tests of a sanitizer build through ctest; extra arguments go to ctest.
sanitizer_test() {
  local name=$1 exclude=()
  shift
  # Tests labelled no_tsan (riffle_test NO_TSAN: a gRPC server or client in the test) do not run
  # under TSan: Debian's gRPC orders its threads with futexes and atomics TSan cannot see, so
  # each such test reports hundreds of races in Riffle and gtest frames; see scripts/tsan.supp.
  # ASan runs them.
  if [ "$name" = tsan ]; then
    exclude=(-LE no_tsan)
  fi
  # halt_on_error: a report fails the test that caused it, with its stack, instead of scrolling
  # past. tsan.supp only silences races inside the uninstrumented Debian libraries (see there).
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_init_order=1:detect_stack_use_after_return=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$RIFFLE_ROOT/scripts/tsan.supp} \
    ctest --test-dir "$RIFFLE_BUILD/$name" --output-on-failure --timeout 600 \
      -j "${RIFFLE_TEST_JOBS:-2}" "${exclude[@]}" "$@"
}

# The lock annotations of common/mutex.h checked by clang-14's -Wthread-safety, as errors, over
# the libraries whose members carry ABSL_GUARDED_BY: storage, the broker and the console
# (build/tsa; only those targets are compiled).
thread_safety_build() {
  ensure_node
  locked cmake -S "$RIFFLE_ROOT" -B "$RIFFLE_BUILD/tsa" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
    -DCMAKE_CXX_FLAGS="-Wthread-safety -Werror=thread-safety" -DRIFFLE_UNIT_TESTS_ONLY=ON >/dev/null
  locked cmake --build "$RIFFLE_BUILD/tsa" --target riffle_storage riffle_broker riffle_console
}

# The libFuzzer targets of tests/fuzz (docs/reliability.md), built by clang-14 in build/fuzz
# (RIFFLE_FUZZ_BUILD) with
# ASan+UBSan: every library they link is compiled with -fsanitize=fuzzer-no-link so the fuzzer is
# guided by coverage inside the parsers; only the targets and those libraries are compiled.
FUZZ_PACKAGES=(clang-14 libfuzzer-14-dev)
FUZZ_TARGETS=(json_request_fuzz cbor_fuzz base64_fuzz token_fuzz sigv4_fuzz credentials_fuzz config_fuzz
              http_request_fuzz http2_request_fuzz event_stream_fuzz grpc_request_fuzz)
RIFFLE_FUZZ_BUILD=${RIFFLE_FUZZ_BUILD:-$RIFFLE_BUILD/fuzz}
fuzz_build() {
  local flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  ensure_node
  locked cmake -S "$RIFFLE_ROOT" -B "$RIFFLE_FUZZ_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" -DRIFFLE_UNIT_TESTS_ONLY=ON \
    -DRIFFLE_FUZZ=ON >/dev/null
  locked cmake --build "$RIFFLE_FUZZ_BUILD" --target riffle_fuzz_targets
}

# Runs one fuzz target for $2 seconds from a copy of its seed corpus (libFuzzer adds the inputs
# it finds to the corpus directory; the seeds in the tree stay as they are). On a crash, prints
# the input that caused it as hex and fails.
fuzz_run() {
  local target=$1 seconds=$2 work
  work=$(mktemp -d)
  cp -r "$RIFFLE_ROOT/tests/fuzz/corpus/$target" "$work/corpus"
  if ! (cd "$work" && "$RIFFLE_FUZZ_BUILD/tests/fuzz/$target" -max_total_time="$seconds" \
          -rss_limit_mb=2048 -print_final_stats=1 corpus >"$work/log" 2>&1); then
    tail -n 60 "$work/log" >&2
    for input in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$input" ] || continue
      echo "riffle: $target failed on this input ($input), as hex:" >&2
      od -A x -t x1z -v "$input" >&2
    done
    rm -rf "$work"
    return 1
  fi
  echo "riffle: $target: $(grep -E 'stat::number_of_executed_units' "$work/log" | awk '{print $2}') executions, no crash" >&2
  rm -rf "$work"
}

# The smoke run of scripts/test: every target for RIFFLE_FUZZ_SECONDS (default 60), two at a time
# (the CI machine has two cores). Fails if any target crashed.
fuzz_smoke() {
  local seconds=${RIFFLE_FUZZ_SECONDS:-60} failed=0 i
  for ((i = 0; i < ${#FUZZ_TARGETS[@]}; i += 2)); do
    local pids=()
    for target in "${FUZZ_TARGETS[@]:i:2}"; do
      fuzz_run "$target" "$seconds" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do
      wait "$pid" || failed=1
    done
  done
  return "$failed"
}
