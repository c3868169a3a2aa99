#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the examples as separate processes and checks what they print.
#   tests/examples.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$build/src/cli:$PATH"
ex="$build/examples"
n="mmftest-ex-$$"
fail() { echo "examples: $*" >&2; exit 1; }

# Two processes in C.
"$ex/process_b" "$n-two" >"/tmp/$n.b" &
out=$("$ex/process_a" "$n-two")
wait $!
grep -q '^A: B answered at seq 2: ok [0-9]*$' <<<"$out" || fail "process_a said: $out"
grep -q '^B: read [0-9]* bytes: {"Name":"process_a","Id":' "/tmp/$n.b" || fail "process_b said: $(cat /tmp/$n.b)"
rm -f "/tmp/$n.b"

# Three processes in C: B and C may append in either order.
"$ex/three_process" b "$n-3c" & b=$!
"$ex/three_process" c "$n-3c" & c=$!
out=$("$ex/three_process" a "$n-3c")
wait $b $c
sorted=$(sort <<<"$out" | tr '\n' '|')
[ "$sorted" = "Line from A|Line from B|Line from C|" ] || fail "three_process printed: $out"
[ "$(head -1 <<<"$out")" = "Line from A" ] || fail "A's line is not first: $out"

# Three processes with the shell.
out=$("$src/examples/three_process.sh" "$n-3sh")
sorted=$(sort <<<"$out" | tr '\n' '|')
[ "$sorted" = "Line from A|Line from B|Line from C|" ] || fail "three_process.sh printed: $out"

for x in "$n-two" "$n-3c" "$n-3sh"; do
  [ ! -e "/dev/shm/$x" ] || fail "$x was left in /dev/shm"
done
echo "examples: ok"
