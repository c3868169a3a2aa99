#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bash completion (contrib/bash-completion/mmf), driven as bash drives
# it: COMP_WORDS and COMP_CWORD in, COMPREPLY out.  TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$here/../contrib/bash-completion/mmf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; rm -f "/dev/shm/mmftest-comp$$ x" "/dev/shm/mmftest-comp$$-y"' EXIT
cd "$tmp" || exit 1
touch "a b.txt" "abc.txt"
: >"/dev/shm/mmftest-comp$$ x"
: >"/dev/shm/mmftest-comp$$-y"

comp() { # words... (the last is the one being completed)
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _mmf 2>/dev/null
  printf '%s\n' "${COMPREPLY[@]}"
}
n=0 failed=0
check() { # description, expected (lines), words...
  local what=$1 want=$2; shift 2
  local got; got=$(comp "$@" | sort)
  n=$((n + 1))
  if [ "$got" = "$(printf '%s' "$want" | sort)" ]; then
    echo "ok $n - $what"
  else
    failed=$((failed + 1))
    echo "not ok $n - $what"
    echo "# wanted: $(printf '%s' "$want" | tr '\n' '|')"
    echo "# got:    $(printf '%s' "$got" | tr '\n' '|')"
  fi
}
has() { # description, word expected among the replies, words...
  local what=$1 want=$2; shift 2
  n=$((n + 1))
  if comp "$@" | grep -qxF -- "$want"; then echo "ok $n - $what"; else
    failed=$((failed + 1)); echo "not ok $n - $what"; echo "# no '$want' in: $(comp "$@" | tr '\n' '|')"; fi
}
echo "1..15"
check "a file name with a space is one word" $'a b.txt' mmf cat "a "
check "file names: all that match" $'a b.txt\nabc.txt' mmf cat a
check "a map name with a space is one word" "mmftest-comp$$ x" mmf info "mmftest-comp$$ "
check "map names for remove, again after one" $'mmftest-comp'"$$"$' x\nmmftest-comp'"$$"'-y' mmf remove "mmftest-comp$$ x" "mmftest-comp$$"
check "info takes one name: nothing after it" "" mmf info A ""
has "-h is offered" "-h" mmf info -
has "remove offers -f" "-f" mmf remove -
has "lock NAME -- offers commands" "echo" mmf lock X -- ec
check "lock NAME -- CMD offers files" $'a b.txt\nabc.txt' mmf lock X -- cat a
check "save NAME offers files for FILE" $'a b.txt\nabc.txt' mmf save X a
has "read offers --follow" "--follow" mmf read --fo
check "read takes one name without --follow" "" mmf read A ""
has "read --follow takes several names" "mmftest-comp$$-y" mmf read --follow A "mmftest-comp$$-"
has "wait takes several names" "mmftest-comp$$-y" mmf wait A "mmftest-comp$$-"
mkfifo "/dev/shm/mmftest-comp$$-fifo"
check "no FIFO among map names" "" mmf info "mmftest-comp$$-fi"
rm -f "/dev/shm/mmftest-comp$$-fifo"
[ "$failed" -eq 0 ]
