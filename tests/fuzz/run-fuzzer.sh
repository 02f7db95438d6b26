#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fuzzes the model for PMT_FUZZ_SECONDS (default 120) from a copy of the
# seed corpus: run-fuzzer.sh FUZZER SEED_CORPUS WORK_CORPUS.  A crash
# leaves its input in WORK_CORPUS/../crash-* and fails; make it a file of
# tests/fuzz/regressions.
set -euo pipefail

fuzzer=$1 seeds=$2 work=$3
seconds=${PMT_FUZZ_SECONDS:-120}

mkdir -p "$work"
cp -n "$seeds"/* "$work"/
# -timeout: one input must end well within the model's own watchdog
# (PMT_MODEL_RUN_TIMEOUT); -rss_limit_mb: threads and GLib's caches make
# a process of a few hundred MB under ASan, not a leak.
exec "$fuzzer" -max_total_time="$seconds" -timeout=60 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=4096 \
  -max_len=512 -print_final_stats=1 -print_funcs=0 -artifact_prefix="$(dirname "$work")/" "$work"
