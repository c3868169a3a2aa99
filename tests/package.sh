#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian packages as a user gets them: build them (script/package, with
# lintian), install them with apt, then use what they installed with no
# environment variable: a program built with pkg-config, the command, the
# manual, the PowerShell module.  Removes them again.  Needs root.
#   tests/package.sh
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
check() { # name, command...
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; echo "$out" | tail -30 | sed 's/^/     /'
  fi
}
if [ "$(id -u)" -ne 0 ]; then
  echo "package: installing packages needs root; skipped"
  exit 0
fi

check "script/package builds libmmf1, libmmf-dev and mmf, lintian finds no error" script/package
debs=(build-deb/libmmf1_*.deb build-deb/libmmf-dev_*.deb build-deb/mmf_*.deb)
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debs[@]/#/./}"; }
check "apt-get install ./*.deb" install

tmp=$(mktemp -d)
program() {
  cat >"$tmp/p.c" <<'C'
#include <mmf.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  mmf_t *m;
  char buf[16];
  size_t len;
  int r = mmf_create("mmftest-package", 4096, MMF_TRANSIENT, 0, &m);
  if (r < 0 || mmf_write(m, "packaged", 8) < 0 || mmf_read(m, buf, sizeof buf, &len, NULL) < 0)
    return fprintf(stderr, "%s\n", mmf_strerror(r)), 1;
  printf("%.*s %s\n", (int)len, buf, mmf_version());
  mmf_close(m);
  return strcmp(mmf_version(), MMF_VERSION_STRING) != 0;
}
C
  # shellcheck disable=SC2046
  cc -Wall -Werror -o "$tmp/p" "$tmp/p.c" $(pkg-config --cflags --libs libmmf) &&
    env -i PATH=/usr/bin:/bin "$tmp/p" | grep -qx "packaged $(pkg-config --modversion libmmf)" &&
    [ ! -e /dev/shm/mmftest-package ]
}
check "a program built with pkg-config --cflags --libs libmmf (and its transient map)" program
check "the autopkgtest (debian/tests/build-and-run) against the installed packages" \
  env -i PATH=/usr/bin:/bin AUTOPKGTEST_TMP="$tmp" sh debian/tests/build-and-run
check "mmf --version" bash -c 'env -i PATH=/usr/bin:/bin mmf --version | grep -q "^mmf "'
check "man -w mmf_create" man -w mmf_create
check "man -w mmf(1), libmmf(3)" bash -c 'man -w 1 mmf && man -w 3 libmmf'
PWSH=$(command -v pwsh || echo "$HOME/.dotnet/tools/pwsh")
if [ -x "$PWSH" ]; then
  pwsh_import() {
    local out
    # By name, in a login shell: /etc/profile.d/mmf-powershell.sh puts the
    # package's module folder on pwsh's module path.
    out=$(env -u MMF_LIBRARY -u MMF_WATCHER -u PSModulePath PWSH="$PWSH" bash -lc '"$PWSH" -NoProfile -Command "
      \$ErrorActionPreference = \"Stop\"
      Import-Module System.IO.MemoryMappedFiles.Commands
      if ((Get-Module System.IO.MemoryMappedFiles.Commands).ModuleBase -ne \"/usr/share/powershell/Modules/System.IO.MemoryMappedFiles.Commands\") { throw \"not the packaged module\" }
      \$m = New-MemoryMappedFile -Name mmftest-package-ps -Size 64
      Out-MemoryMappedFile \$m \"from the package\"
      Read-MemoryMappedFile \$m
      \$m.Dispose()"' 2>&1)
    [ "$out" = "from the package" ] || { echo "$out"; return 1; }
    [ ! -e /dev/shm/mmftest-package-ps ]
  }
  check "pwsh imports the installed module with no environment variable" pwsh_import
fi
rm -rf "$tmp"
purge() { DEBIAN_FRONTEND=noninteractive apt-get purge -y -q libmmf1 libmmf-dev mmf; }
check "apt-get purge" purge
echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
