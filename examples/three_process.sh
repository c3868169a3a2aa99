#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The module's three-process example with the mmf command: A creates the map
# and writes a line, B and C each append a line while holding the map's lock,
# and A waits for both (seq 3) and prints the three lines.
#   examples/three_process.sh [NAME]       (mmf must be on PATH)
set -euo pipefail
MAP=${1:-ThreeProcesses}

mmf new "$MAP" --size 4K
mmf write "$MAP" "Line from A"

for who in B C; do
  ( mmf lock "$MAP" --timeout 10 -- mmf write "$MAP" --append "Line from $who" ) &
done

mmf wait "$MAP" --after 2 --timeout 10 >/dev/null
wait
mmf read "$MAP"
echo
mmf remove "$MAP"
