# SPDX-License-Identifier: MIT
# "3 Processes", process C: append a line to A's map while holding the
# named mutex.
Import-Module System.IO.MemoryMappedFiles.Commands
$MapName = if ($env:MMF_TEST_MAP) { $env:MMF_TEST_MAP } else { 'Test' }

$Map = Open-MemoryMappedFile -Name $MapName
$Mutex = [System.Threading.Mutex]::OpenExisting("$MapName-mutex")
[void] $Mutex.WaitOne()
Out-MemoryMappedFile -MemoryMappedFile $Map -String 'Process C says: Hello World!' -Append
$Mutex.ReleaseMutex()
