# SPDX-License-Identifier: MIT
# "3 Processes", process A: make the map and a named mutex, write a line,
# let B and C append theirs (ENTER after each), then print all three.
Import-Module System.IO.MemoryMappedFiles.Commands
$MapName = if ($env:MMF_TEST_MAP) { $env:MMF_TEST_MAP } else { 'Test' }

$Map = New-MemoryMappedFile -Name $MapName -Size 1024
$Mutex = [System.Threading.Mutex]::new($true, "$MapName-mutex")
Out-MemoryMappedFile -MemoryMappedFile $Map -String 'Process A says: Hello World!'
$Mutex.ReleaseMutex()

[Console]::WriteLine('A: start B, then press ENTER')
Read-Host
[Console]::WriteLine('A: start C, then press ENTER')
Read-Host

[void] $Mutex.WaitOne()
Read-MemoryMappedFile -MemoryMappedFile $Map
$Mutex.ReleaseMutex()
Remove-MemoryMappedFile -MemoryMappedFile $Map
