# SPDX-License-Identifier: MIT
# "Transfer objects", process B: open A's map by name, parse the JSON back
# into an object and show it.
Import-Module System.IO.MemoryMappedFiles.Commands
$MapName = if ($env:MMF_TEST_MAP) { $env:MMF_TEST_MAP } else { 'Test' }

$Map = Open-MemoryMappedFile -Name $MapName
$Object = Read-MemoryMappedFile -MemoryMappedFile $Map | ConvertFrom-Json
Write-Output "B: A is $($Object.Name) with Id $($Object.Id)"
Remove-MemoryMappedFile -MemoryMappedFile $Map
