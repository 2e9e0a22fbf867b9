#!/usr/bin/env bash
# Prepares what the real-client tests need, on a fresh machine or an old one: Debian packages (kcat,
# Node.js, npm, and what scripts/setup-*.d/ ask for) and the Node.js clients' packages. Each step is
# skipped when already done, so a second run takes a second or two. Called by ./test.sh;
# KIRI_SKIP_SETUP=1 skips it (e.g. on a machine without root where everything is installed by hand).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "kiri setup: $*" >&2; }

# Debian packages: commands (or files, by absolute path) we need -> the package that has them. Extra
# lines come from scripts/setup.d/*.packages ("command-or-path package" per line), one file per feature.
declare -A wanted=([kcat]=kcat [node]=nodejs [npm]=npm)
for f in scripts/setup.d/*.packages; do
  [ -e "$f" ] || continue
  while read -r cmd pkg; do
    case "$cmd" in ''|\#*) continue ;; esac
    wanted[$cmd]=$pkg
  done < "$f"
done
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -e "$cmd" ] || missing+=("${wanted[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing ${missing[*]}: install them (Debian package names), or set KIRI_SKIP_SETUP=1 to run without" ; exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm projects of the tests: `npm ci` only when node_modules is missing or older than the lock file.
# A project with a step of its own (scripts/setup.d/NAME.sh, e.g. one that compiles a native client) is left to it.
for dir in modules/launcher/src/test/*/; do
  [ -f "$dir/package-lock.json" ] || continue
  [ -e "scripts/setup.d/$(basename "$dir").sh" ] && continue
  stamp="$dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    say "npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

# Feature steps (e.g. building a client library): scripts/setup.d/*.sh, each idempotent.
for f in scripts/setup.d/*.sh; do
  [ -e "$f" ] || continue
  bash "$f"
done
