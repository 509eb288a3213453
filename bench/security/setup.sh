#!/bin/sh
# Benchmark-only sources and peers (never needed by `make test`). Run as root from the repo root.
set -u
apt-get update -qq
# Attack lists, benign text, the OWASP CRS rules and a Redis server for the limiter peers.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wfuzz sqlmap wapiti modsecurity-crs \
  libmodsecurity3 redis-server fortunes-min wamerican wrk || echo "some Debian packages did not install"
.venv/bin/pip install --quiet -r bench/security/requirements.txt || echo "some PyPI peers did not install"
mkdir -p bench/security/.cache && (cd bench/security/.cache && npm install --silent blns@2.0.4) \
  || echo "npm blns did not install"
