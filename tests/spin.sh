#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks the models of docs/ with spin: publish.pml (the publication core)
# and reuse.pml (format 3's chain, delta and tag words: appends, write_at,
# the writers' reuse, read_since, a killed writer, a peer that never writes
# the words). Each must pass every check, and each broken variant must be
# found, or a passing run would prove nothing. Exit 77 (skip) without spin.
#   tests/spin.sh [WORK_DIR]    (WORK_DIR is kept; by default a temporary
#                                one, removed at the end)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v spin >/dev/null 2>&1; then
  echo "spin: not installed"
  exit 77
fi
cc=$(command -v cc || command -v gcc || true)
[ -n "$cc" ] || { echo "spin: no C compiler for pan" >&2; exit 1; }

if [ $# -ge 1 ]; then
  mkdir -p "$1"
  work=$(cd "$1" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# The model each run checks (by run name).
model() {
  case $1 in
  reuse*) echo reuse.pml ;;
  *) echo publish.pml ;;
  esac
}

# run NAME "SPIN_DEFINES" "CC_FLAGS" "PAN_FLAGS": one verification in its
# own folder (pan.c, pan and the trail are per run), output in pan.out.
# COLLAPSE: reuse.pml's runs store up to ~25 million states.
run() {
  local d="$work/$1" m
  m=$(model "$1")
  rm -rf "$d"
  mkdir -p "$d"
  cp "$src/docs/$m" "$d/"
  (
    cd "$d"
    # shellcheck disable=SC2086
    spin $2 -a "$m" >spin.out 2>&1 &&
      "$cc" -O2 -w -DCOLLAPSE $3 -o pan pan.c >cc.out 2>&1 &&
      ./pan -m1000000 $4 >pan.out 2>&1
  ) || true
}

# Two at a time: the machine may have only two cores. The two long ones
# first, each beside short ones.
run reuse "" "-DSAFETY -DNOCLAIM" "" &
(
  run safety "" "-DSAFETY -DNOCLAIM" ""
  run termination "" "" "-a"
  run readonly "-DRO" "-DSAFETY -DNOCLAIM" ""
) &
wait
run reuse_foreign "-DFOREIGN" "-DSAFETY -DNOCLAIM" "" &
(
  run tries2 "-DTRIES=2" "-DSAFETY -DNOCLAIM" ""
  run bug_v1 "-DBUG_V1" "-DSAFETY -DNOCLAIM" ""
  # The claim on a smaller instance: one write after content 1's.
  run reuse_term "-DNW=1" "" "-a"
  run reuse_bug_seqtag "-DFOREIGN -DBUG_SEQTAG" "-DSAFETY -DNOCLAIM" ""
  run reuse_bug_novoid "-DBUG_NOVOID" "-DSAFETY -DNOCLAIM" ""
) &
wait

failed=0
# check NAME "SPIN_DEFINES" EXPECT(ok|error) LABEL
check() {
  local d="$work/$1" out errors states
  out="$d/pan.out"
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" 2>/dev/null | head -1)
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$out" 2>/dev/null | head -1)
  if [ -z "$errors" ] || [ -z "$states" ]; then
    echo "spin: $4: no verdict" >&2
    cat "$d"/*.out >&2 2>/dev/null || true
    failed=1
    return
  fi
  if grep -q "max search depth too small" "$out"; then
    echo "spin: $4: search cut short (depth)" >&2
    failed=1
    return
  fi
  case $3 in
  ok)
    if [ "$errors" = 0 ]; then
      echo "spin: $4: ok ($states states)"
      return
    fi
    echo "spin: $4: FAILED ($errors errors, $states states)" >&2
    cat "$out" >&2
    # shellcheck disable=SC2086
    (cd "$d" && spin $2 -t -p -g -l "$(model "$1")" | tail -n 80) >&2 || true
    ;;
  error)
    if [ "$errors" -gt 0 ] && grep -q "assertion violated" "$out"; then
      echo "spin: $4: found, as it must be ($(grep -m1 'assertion violated' "$out" | sed 's/^pan:1: //'))"
      return
    fi
    echo "spin: $4: NOT FOUND ($states states): the model cannot fail" >&2
    ;;
  esac
  failed=1
}

check safety "" ok "publication model"
check termination "" ok "publication model, locking reader completes"
check readonly "-DRO" ok "publication model, read-only reader"
check tries2 "-DTRIES=2" ok "publication model, writer waits for a reader"
check bug_v1 "-DBUG_V1" error "version 1 abort bug"
check reuse "" ok "format 3 words: appends, write_at, reuse, read_since"
check reuse_foreign "-DFOREIGN" ok "format 3 words, with a peer that never writes them"
check reuse_term "-DNW=1" ok "format 3 words, reads complete"
check reuse_bug_seqtag "-DFOREIGN -DBUG_SEQTAG" error "words valid by seq (format 2's chain_seq), killed appender"
check reuse_bug_novoid "-DBUG_NOVOID" error "slot opened without voiding its seq"
exit $failed
