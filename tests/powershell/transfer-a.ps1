# SPDX-License-Identifier: MIT
# "Transfer objects", process A: put a JSON description of this process into
# a map sized to fit it, then hold the map until told to go on (ENTER).
Import-Module System.IO.MemoryMappedFiles.Commands
$MapName = if ($env:MMF_TEST_MAP) { $env:MMF_TEST_MAP } else { 'Test' }

[string] $Json = Get-Process -Id $PID | ConvertTo-Json -WarningAction SilentlyContinue
$Map = New-MemoryMappedFile -Name $MapName -Size $Json.Length
Out-MemoryMappedFile -MemoryMappedFile $Map -String $Json

[Console]::WriteLine("A: process $PID wrote $($Json.Length) characters; press ENTER after B has run")
Read-Host
Remove-MemoryMappedFile -MemoryMappedFile $Map
