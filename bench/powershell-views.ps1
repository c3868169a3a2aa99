# SPDX-License-Identifier: MIT
# Views of the PowerShell module against .NET's file-backed views, side by
# side in one run: StreamWriter over CreateViewStream() for 1, 4 and 16 MB,
# and 200 x accessor.Write(pos, [long]) on a 64 MB map (the time until the
# writes are visible to other processes: Dispose() included).  Medians of 5.
# Also the warm import of the module against Microsoft.PowerShell.ThreadJob.
#   PSModulePath=build/powershell pwsh -NoProfile -File bench/powershell-views.ps1
$ErrorActionPreference = 'Stop'
Import-Module System.IO.MemoryMappedFiles.Commands
$tmp = [IO.Path]::GetTempPath()
$reps = 5

function Median([scriptblock]$Run) {
    $t = foreach ($i in 1..$reps) { $sw = [Diagnostics.Stopwatch]::StartNew(); & $Run; $sw.Stop(); $sw.Elapsed.TotalMilliseconds }
    ($t | Sort-Object)[[int][Math]::Floor($reps / 2)]
}

function Row([string]$Case, [double]$Mmf, [double]$Net) {
    '{0,-34} {1,9:N1} {2,9:N1} {3,7:N2}' -f $Case, $Mmf, $Net, ($Mmf / $Net)
}

'{0,-34} {1,9} {2,9} {3,7}' -f 'case (ms, median of 5)', 'mmf', '.NET', 'ratio'
foreach ($mb in 1, 4, 16) {
    $text = 'x' * ($mb * 1MB)
    $m = New-MemoryMappedFile "mmfbench-views-$PID-$mb" ($mb * 1MB)
    $f = Join-Path $tmp "mmfbench-views-$PID.bin"
    $n = [IO.MemoryMappedFiles.MemoryMappedFile]::CreateFromFile($f, "Create", [NullString]::Value, $mb * 1MB)
    $a = Median { $s = $m.CreateViewStream(); $w = [IO.StreamWriter]::new($s); $w.Write($text); $w.Dispose() }
    $b = Median { $s = $n.CreateViewStream(); $w = [IO.StreamWriter]::new($s); $w.Write($text); $w.Dispose() }
    Row "StreamWriter, $mb MB" $a $b
    $m.Dispose(); $n.Dispose(); Remove-Item $f
}

$size = 64MB
$m = New-MemoryMappedFile "mmfbench-views-$PID-64" $size
$s = $m.CreateViewStream(); $s.Write([byte[]]::new($size), 0, $size); $s.Dispose()
$f = Join-Path $tmp "mmfbench-views-$PID.bin"
$n = [IO.MemoryMappedFiles.MemoryMappedFile]::CreateFromFile($f, "Create", [NullString]::Value, $size)
$write = { param($map) $v = $map.CreateViewAccessor(); for ($i = 0; $i -lt 200; $i++) { $v.Write([long]($i * 333331), [long]$i) }; $v.Dispose() }
$a = Median { & $write $m }
$b = Median { & $write $n }
Row '200 x accessor.Write, 64 MB' $a $b
$m.Dispose(); $n.Dispose(); Remove-Item $f

# Warm imports: each in a fresh pwsh, after one import that warms the disk cache.
$pwsh = (Get-Process -Id $PID).Path
if ((Split-Path -Leaf $pwsh) -eq 'dotnet') { $pwsh = (Get-Command pwsh).Source }
foreach ($mod in 'System.IO.MemoryMappedFiles.Commands', 'Microsoft.PowerShell.ThreadJob') {
    $ms = foreach ($i in 0..$reps) {
        & $pwsh -NoProfile -Command "`$t = [Diagnostics.Stopwatch]::StartNew(); Import-Module $mod; `$t.Elapsed.TotalMilliseconds"
    }
    '{0,-34} {1,9:N1} ms (median of {2} warm imports)' -f "Import-Module $mod", (($ms | Select-Object -Skip 1 | ForEach-Object { [double]$_ } | Sort-Object)[[int][Math]::Floor($reps / 2)]), $reps
}
