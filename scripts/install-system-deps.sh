#!/usr/bin/env bash
# System packages that a set-up needs, installed with apt when missing (CI and developers are root).
#   test:  Chromium, for the headless-browser test of the HTML worked solution
#   bench: Debian's Fashion-MNIST IDX files
set -euo pipefail
what="${1:-test}"
need=()
case "$what" in
  test) command -v chromium >/dev/null || need+=(chromium) ;;
  bench) [ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist) ;;
  *) echo "usage: $0 test|bench" >&2; exit 2 ;;
esac
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
