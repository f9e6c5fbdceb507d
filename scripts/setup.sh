#!/usr/bin/env bash
# Installs everything sortd needs on Debian 12 (packages from Debian's archive, front-end
# packages from npm), then configures and builds it. Safe to run again: it installs only what is
# missing and rebuilds only what changed.
#   scripts/setup.sh [build-dir [cmake options...]]     (default: build)
# The cmake options (and CC / CXX from the environment) are used when build-dir is configured
# for the first time; scripts/test.sh makes its sanitizer builds with them.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
shift $(( $# > 0 ? 1 : 0 ))

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config clang-format
  # libraries
  libmodbus-dev libusb-1.0-0-dev libzmq3-dev cppzmq-dev libsqlite3-dev libboost-test-dev
  libsystemd-dev nlohmann-json3-dev libtomlplusplus-dev libzint-dev libcairo2-dev libcli11-dev
  libspdlog-dev libsodium-dev
  # the HMI gateway's HTTP server (hmi/gateway)
  libcpp-httplib-dev
  # tools the tests and simulators use
  sqlite3 umockdev libumockdev-dev socat python3 python3-pymodbus python3-serial
  python3-serial-asyncio python3-zmq libzxing-dev zxing-cpp-tools fonts-noto-cjk
  chromium
  # the units' and udev rules' checks (systemd-analyze, systemd-sysusers, systemd-tmpfiles,
  # udevadm test under umockdev) and ExecReload=/bin/kill
  systemd procps udev
  # scanner parser fuzzing (libFuzzer, ASan, UBSan: tests/fuzz/run.sh)
  clang libclang-rt-14-dev
)

# Node.js and npm: the machine's own when it has them (a Node.js that bundles npm conflicts
# with Debian's npm package), Debian's otherwise.
command -v npm > /dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Front-end and browser-test packages (npm registry), where the project has them.
for dir in hmi/web tests/browser tests/labels; do
  if [ -f "$dir/package.json" ]; then
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
      echo "setup: npm install in $dir"
      # npm install (not npm ci): it follows the lock file too, and npm 11 writes locks that its
      # own ci refuses for rollup's optional platform packages.
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error && touch node_modules)
    fi
  fi
done

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
