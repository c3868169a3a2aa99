#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The PowerShell module's tests: the module's README example and its two
# example folders run as separate pwsh processes, interop with the mmf
# command and a C program, reaping after a killed holder, help and errors,
# the .nupkg installed with Install-PSResource, then the Pester tests.
#   tests/powershell/run.sh BUILD_DIR
set -uo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PWSH=$(command -v pwsh || echo "$HOME/.dotnet/tools/pwsh")
if [ ! -x "$PWSH" ]; then
  echo "powershell: pwsh is not installed; skipped (script/bootstrap installs it)"
  exit 0
fi
module="$build/powershell/System.IO.MemoryMappedFiles.Commands"
if [ ! -f "$module/System.IO.MemoryMappedFiles.Commands.dll" ]; then
  echo "powershell: $module was not built"
  echo "powershell: 0 passed, 1 failed"
  exit 1
fi
# The module folder of the build, which loads the libmmf.so.1 in it.
export PSModulePath="$build/powershell"
export PATH="$(dirname "$PWSH"):$PATH"   # the tests start pwsh processes
unset MMF_LIBRARY
# libmmf runs the mmf-watch beside itself (the module folder's).
unset MMF_WATCHER
export PATH="$build/src/cli:$PATH"
export MMF_TEST_MAP="mmftest-ps-$$"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 POWERSHELL_TELEMETRY_OPTOUT=1
pw() { "$PWSH" -NoProfile -NoLogo "$@"; }

passed=0 failed=0
check() { # name, command...
  local name=$1; shift
  local out t0=$SECONDS
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); echo "ok   $name ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); echo "FAIL $name ($((SECONDS - t0)) s)"; echo "$out" | sed 's/^/     /' | tail -30
  fi
}
gone() { [ ! -e "/dev/shm/$MMF_TEST_MAP" ] || { echo "$MMF_TEST_MAP was left in /dev/shm"; return 1; }; }
wait_for_map() {
  for _ in $(seq 300); do [ -e "/dev/shm/$MMF_TEST_MAP" ] && mmf info "$MMF_TEST_MAP" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "the map never appeared"; return 1
}

# ---- the module's README example, in one process ----
readme() {
  pw -Command '
    $ErrorActionPreference = "Stop"
    Import-Module System.IO.MemoryMappedFiles.Commands
    $MemoryMappedFile = New-MemoryMappedFile -Name $env:MMF_TEST_MAP -Size 1024
    Out-MemoryMappedFile -MemoryMappedFile $MemoryMappedFile -String "Mein Text."
    $text = Read-MemoryMappedFile -MemoryMappedFile $MemoryMappedFile
    if ($text -ne "Mein Text.") { throw "read [$text]" }
    $again = Open-MemoryMappedFile -Name $env:MMF_TEST_MAP
    if ((Read-MemoryMappedFile -MemoryMappedFile $again) -ne "Mein Text.") { throw "open" }
    Out-MemoryMappedFile -MemoryMappedFile $MemoryMappedFile -String "short"
    if ((Read-MemoryMappedFile $again) -ne "short") { throw "no stale tail expected" }
    "with`0nul" | Out-MemoryMappedFile -MemoryMappedFile $MemoryMappedFile
    if ((Read-MemoryMappedFile $again) -ne "with`0nul") { throw "NUL must survive" }
    Remove-MemoryMappedFile -MemoryMappedFile $again
    Remove-MemoryMappedFile -MemoryMappedFile $MemoryMappedFile
  ' && gone
}
check "README example" readme

# Start process A's script with its keyboard on fd 7 (ENTER: echo >&7) and
# its output in $A_OUT; wait until its map exists.  Sets A_PID.
start_a() {
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  A_OUT="$fifo.a"
  pw -File "$here/$1" <"$fifo" >"$A_OUT" 2>&1 &
  A_PID=$!
  exec 7>"$fifo"
  rm -f "$fifo"
  wait_for_map || { kill $A_PID; return 1; }
}
# Press ENTER for the last time and wait for A to end well.
finish_a() {
  echo >&7; exec 7>&-
  wait $A_PID || { cat "$A_OUT"; return 1; }
}

# ---- "Transfer objects": A and B as separate processes ----
transfer() {
  start_a transfer-a.ps1 || return 1
  local out; out=$(pw -File "$here/transfer-b.ps1" 2>&1) || { echo "$out"; kill $A_PID; return 1; }
  echo "$out"
  local apid; apid=$(sed -n 's/^A: process \([0-9]*\) wrote.*/\1/p' "$A_OUT")
  grep -q "^B: A is .* with Id $apid\$" <<<"$out" || { echo "B did not parse A's JSON (A is $apid)"; kill $A_PID; return 1; }
  finish_a || return 1
  rm -f "$A_OUT"
  gone
}
check "Transfer objects: A and B" transfer

# ---- "3 Processes": A, B and C with the named mutex ----
three() {
  start_a three-a.ps1 || return 1
  pw -File "$here/three-b.ps1" || { kill $A_PID; return 1; }
  echo >&7
  pw -File "$here/three-c.ps1" || { kill $A_PID; return 1; }
  finish_a || return 1
  local got; got=$(grep "says" "$A_OUT" | tr -d '\r')   # -Append writes CRLF, as the original
  rm -f "$A_OUT"
  local want=$'Process A says: Hello World!\nProcess B says: Hello World!\nProcess C says: Hello World!'
  [ "$got" = "$want" ] || { echo "A printed: $got"; return 1; }
  gone
}
check "3 Processes: A, B and C" three

# ---- interop with the mmf command and a C program ----
interop() {
  pw -Command '
    $ErrorActionPreference = "Stop"
    Import-Module System.IO.MemoryMappedFiles.Commands
    $m = New-MemoryMappedFile -Name $env:MMF_TEST_MAP -Size 4096
    Out-MemoryMappedFile -MemoryMappedFile $m -String "from pwsh: ünïcödé"
    $cli = & mmf read $env:MMF_TEST_MAP
    if ($cli -ne "from pwsh: ünïcödé") { throw "mmf read gave [$cli]" }
    & mmf write $env:MMF_TEST_MAP "from the" "mmf command"
    if ((Read-MemoryMappedFile $m) -ne "from the mmf command") { throw "Read after mmf write" }
    # a C program: process_b reads the JSON and answers
    Out-MemoryMappedFile -MemoryMappedFile $m -String (@{ Name = "pwsh"; Id = $PID } | ConvertTo-Json -Compress)
    $json = $m.Seq
    $c = Start-Process -FilePath (Join-Path $env:BUILD "examples/process_b") -ArgumentList $env:MMF_TEST_MAP -PassThru -RedirectStandardOutput /dev/null
    $seq = Wait-MemoryMappedFile -MemoryMappedFile $m -After $json -TimeoutSeconds 20
    $c.WaitForExit()
    $answer = Read-MemoryMappedFile $m
    if ($answer -ne "ok $PID") { throw "the C program answered [$answer] at seq $seq" }
    Remove-MemoryMappedFile -MemoryMappedFile $m
  ' && gone
}
export BUILD="$build" HERE="$here"
check "interop: mmf command and C program" interop

# ---- a killed pwsh holder: its map goes by itself ----
killed() {
  local pidfile; pidfile=$(mktemp)
  PIDFILE=$pidfile pw -Command '
    Import-Module System.IO.MemoryMappedFiles.Commands
    $m = New-MemoryMappedFile -Name $env:MMF_TEST_MAP -Size 64
    Set-Content -Path $env:PIDFILE -Value $PID
    Start-Sleep 60' &
  local p=$!
  for _ in $(seq 300); do [ -s "$pidfile" ] && break; sleep 0.05; done
  local holder; holder=$(cat "$pidfile"); rm -f "$pidfile"
  [ -n "$holder" ] || { echo "pwsh never started"; kill $p; return 1; }
  kill -9 "$holder"; wait $p 2>/dev/null
  # Gone within a second by itself: no mmf command runs meanwhile.
  for _ in $(seq 100); do [ -e "/dev/shm/$MMF_TEST_MAP" ] || break; sleep 0.01; done
  [ ! -e "/dev/shm/$MMF_TEST_MAP" ] || { echo "still there 1 s after its holder was killed"; return 1; }
}
check "killed pwsh holder: the map is gone within 1 s" killed

# ---- errors, -WhatIf, Get-Help, Get-MemoryMappedFile ----
cmdlets() {
  pw -Command '
    $ErrorActionPreference = "Stop"
    Import-Module System.IO.MemoryMappedFiles.Commands
    $m = New-MemoryMappedFile -Name $env:MMF_TEST_MAP -Size 4096
    $cli = (& mmf write $env:MMF_TEST_MAP ("x" * 5000)) 2>&1 | Out-String
    try { Out-MemoryMappedFile -MemoryMappedFile $m -String ("x" * 5000); throw "no error" }
    catch { $msg = "$_" }
    $tail = "5000 bytes do not fit the 4096-byte capacity; nothing was written"
    if (-not $msg.EndsWith($tail) -or -not $cli.Contains($tail)) { throw "messages differ: [$msg] [$cli]" }
    if ((Read-MemoryMappedFile $m) -ne "") { throw "the failed write changed the content" }
    try { Open-MemoryMappedFile -Name "$($env:MMF_TEST_MAP)-missing"; throw "no error" } catch { if ("$_" -notmatch "no such map") { throw "$_" } }
    try { New-MemoryMappedFile -Name ".." -Size 10; throw "no error" } catch { if ("$_" -notmatch "not a valid map name") { throw "$_" } }
    New-MemoryMappedFile -Name "$($env:MMF_TEST_MAP)-whatif" -Size 10 -WhatIf
    if (Test-Path "/dev/shm/$($env:MMF_TEST_MAP)-whatif") { throw "-WhatIf created it" }
    $l = Get-MemoryMappedFile $env:MMF_TEST_MAP
    if ($l.Kind -ne "mmf" -or $l.Capacity -ne 4096 -or $l.Holders -ne 1) { throw "Get-MemoryMappedFile: $($l | Out-String)" }
    $f = Join-Path ([IO.Path]::GetTempPath()) "$($env:MMF_TEST_MAP).json"
    Out-MemoryMappedFile -MemoryMappedFile $m -String "{""saved"":true}"
    Save-MemoryMappedFile -MemoryMappedFile $m -Path $f
    if ((Get-Content -Raw $f) -ne "{""saved"":true}") { throw "Save" }
    Remove-Item $f
    try { Wait-MemoryMappedFile -MemoryMappedFile $m -TimeoutSeconds 0.2; throw "no timeout" } catch { if ("$_" -notmatch "within the timeout") { throw "$_" } }
    foreach ($c in (Get-Command -Module System.IO.MemoryMappedFiles.Commands)) {
      $h = Get-Help $c.Name -Full
      if (-not $h.examples -or -not $h.Synopsis) { throw "no help for $($c.Name)" }
    }
    Remove-MemoryMappedFile -MemoryMappedFile $m
  ' && gone
}
check "errors, -WhatIf, help, listing, save, wait" cmdlets

# ---- installed to a prefix of its own: found with no environment variable ----
installed() {
  local prefix; prefix=$(mktemp -d)
  local b="$prefix/build"
  meson setup "$b" "$root" --prefix="$prefix" -Dtests=false -Dbench=false -Dexamples=false >/dev/null &&
    ninja -C "$b" >/dev/null && meson install -C "$b" --quiet >/dev/null || { rm -rf "$prefix"; return 1; }
  local out
  out=$(env -u MMF_LIBRARY -u MMF_WATCHER PSModulePath="$prefix/share/powershell/Modules" \
    "$PWSH" -NoProfile -Command '
      $ErrorActionPreference = "Stop"
      Import-Module System.IO.MemoryMappedFiles.Commands
      $m = New-MemoryMappedFile -Name $env:MMF_TEST_MAP -Size 64
      Out-MemoryMappedFile $m "installed"
      Read-MemoryMappedFile $m
      $m.Dispose()' 2>&1)
  rm -rf "$prefix"
  [ "$out" = installed ] || { echo "$out"; return 1; }
  gone
}
check "installed to its own prefix: imports and works with no environment variable" installed

# ---- the .nupkg, installed the PowerShell way, with nothing else of mmf ----
nupkg() {
  local tmp; tmp=$(mktemp -d)
  local out
  out=$("$root/script/package" --nupkg "$build" "$tmp/repo" 2>&1) || { echo "$out"; rm -rf "$tmp"; return 1; }
  ls "$tmp"/repo/*.nupkg >/dev/null || { echo "no .nupkg: $out"; rm -rf "$tmp"; return 1; }
  # A user of its own: HOME, its module path and PSResourceGet's settings
  # (.NET gives no settings folder that does not exist).
  mkdir -p "$tmp/home/.local/share" "$tmp/home/.config" "$tmp/home/.cache"
  out=$(env -u MMF_LIBRARY HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/.local/share" \
    XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache" \
    REPO="$tmp/repo" PSModulePath= \
    "$PWSH" -NoProfile -Command '
      $ErrorActionPreference = "Stop"
      Register-PSResourceRepository -Name mmf-local -Uri (Join-Path $env:REPO "") -Trusted
      Install-PSResource -Name System.IO.MemoryMappedFiles.Commands -Repository mmf-local -Scope CurrentUser -TrustRepository
      Import-Module System.IO.MemoryMappedFiles.Commands
      $m = New-MemoryMappedFile -Name $env:MMF_TEST_MAP -Size 64
      Out-MemoryMappedFile $m "from the nupkg"
      Read-MemoryMappedFile $m
      (Get-Module System.IO.MemoryMappedFiles.Commands).ModuleBase
      (Get-Content /proc/$PID/maps | Select-String -SimpleMatch libmmf.so | Select-Object -First 1).Line -replace ".* ", ""
      $m.Dispose()' 2>&1)
  local ok=0
  # Its own libmmf, from the folder Install-PSResource made.
  local base="$tmp/home/.local/share/powershell/Modules/System.IO.MemoryMappedFiles.Commands/"
  grep -qx "from the nupkg" <<<"$out" && grep -q "^$base" <<<"$out" && grep -q "^${base}.*/libmmf.so.1$" <<<"$out" && ok=1
  rm -rf "$tmp"
  [ "$ok" -eq 1 ] || { echo "$out"; return 1; }
  gone
}
check "the .nupkg: Install-PSResource from a local repository, imports and works alone" nupkg

# ---- Pester: one Describe per cmdlet, each case counted ----
pester_out=$("$PWSH" -NoProfile -Command '
  Import-Module Pester -RequiredVersion 6.2.0 -ErrorAction Stop
  $c = New-PesterConfiguration
  $c.Run.Path = Join-Path $env:HERE "Module.Tests.ps1"
  $c.Run.PassThru = $true
  $c.Output.Verbosity = "Detailed"
  $c.Output.RenderMode = "Plaintext"
  $r = Invoke-Pester -Configuration $c
  "pester: $($r.PassedCount) passed, $($r.FailedCount + $r.FailedContainersCount + $r.FailedBlocksCount) failed"' 2>&1)
echo "$pester_out" | grep -A8 -E '^\s*\[-\]' | head -80
line=$(sed -n 's/^pester: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' <<<"$pester_out")
if [ -n "$line" ]; then
  passed=$((passed + ${line% *})); failed=$((failed + ${line#* }))
  echo "pester: ${line% *} passed, ${line#* } failed"
else
  failed=$((failed + 1)); echo "FAIL Pester did not run:"; echo "$pester_out" | tail -20
fi
rm -f /dev/shm/"$MMF_TEST_MAP"-* 2>/dev/null

echo "powershell: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
