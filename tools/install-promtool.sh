#!/usr/bin/env bash
# Put Prometheus' own `promtool` into the given bin directory, from Debian's `prometheus`
# package, without installing the package (no service, no config): tests lint our /metrics
# output with the real tool.
set -euo pipefail
bin_dir=$(cd "$1" && pwd)
[ -x "$bin_dir/promtool" ] && exit 0
if command -v promtool >/dev/null; then
  ln -sf "$(command -v promtool)" "$bin_dir/promtool"; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download prometheus >/dev/null 2>&1; then
  # Package lists may be empty on a fresh machine; refreshing them needs root.
  apt-get update -qq >/dev/null
  apt-get download prometheus >/dev/null
fi
dpkg-deb -x prometheus_*.deb extracted
install -m 0755 extracted/usr/bin/promtool "$bin_dir/promtool"
"$bin_dir/promtool" --version | head -1
