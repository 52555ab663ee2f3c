#!/usr/bin/env bash
# deps.sh - installs the Debian packages docbus needs, only those missing; a no-op when
# everything is present. Run by make, make test and make demo.
set -euo pipefail

packages=(
  gcc make pkg-config xxd
  librdkafka-dev libavro-dev libssl-dev libjansson-dev libyajl-dev libcmark-dev libcmocka-dev libjemalloc-dev
  kcat openjdk-17-jre-headless maven
  clang libclang-rt-14-dev
  python3-venv gdb
)
[ "${DOCBUS_DEPS_BROWSER:-1}" = 1 ] && packages+=(chromium)

missing=()
for p in "${packages[@]}"; do
  # openjdk/maven may come from elsewhere (e.g. a JDK already on PATH).
  case $p in
    openjdk-17-jre-headless) command -v java >/dev/null && continue ;;
    maven) command -v mvn >/dev/null && continue ;;
  esac
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done" >&2
