# Shared by scripts/run and scripts/test: installs what is missing from Debian's packages and
# builds Riffle with CMake + Ninja. Sourced, not executed.
set -euo pipefail

RIFFLE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RIFFLE_BUILD=${RIFFLE_BUILD:-$RIFFLE_ROOT/build}
RIFFLE_BUILD_TYPE=${RIFFLE_BUILD_TYPE:-Release}

BUILD_PACKAGES=(cmake ninja-build pkg-config g++ librocksdb-dev libgrpc++-dev protobuf-compiler-grpc
  libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev libbenchmark-dev libboost1.81-dev
  libsimdjson-dev libssl-dev libcli11-dev libspdlog-dev libfmt-dev libnghttp2-dev
  prometheus-cpp-dev zlib1g-dev)
# What the tests run besides Riffle: the cluster tests start a real etcd.
TEST_PACKAGES=(etcd-server)

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

# The clients the integration tests drive: boto3, the aws CLI, Node.js with npm.
ensure_test_clients() {
  local missing=()
  python3 -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)
  command -v aws >/dev/null 2>&1 || missing+=(awscli)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  apt_install "${missing[@]}"
}

build() {
  cmake -S "$RIFFLE_ROOT" -B "$RIFFLE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE="$RIFFLE_BUILD_TYPE" >/dev/null
  cmake --build "$RIFFLE_BUILD" "$@"
}
