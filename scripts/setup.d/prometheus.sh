#!/usr/bin/env bash
# Makes Debian's prometheus (2.42) available at /usr/bin/prometheus for the metrics tests
# (kiri.launcher.PrometheusScrapeTest), without leaving its system service running: the tests start their
# own server with a temporary config and data directory. Idempotent; needs root (or sudo) to install.
set -euo pipefail
if [ ! -x /usr/bin/prometheus ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup-prometheus: installing Debian's prometheus package" >&2
  # the package's postinst starts its service where an init system runs; policy-rc.d 101 forbids that
  policy=/usr/sbin/policy-rc.d
  created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; }
  [ -z "$created_policy" ] || $sudo rm -f "$policy"
fi
# whatever installed it: no system service left running or enabled
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/prometheus ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
