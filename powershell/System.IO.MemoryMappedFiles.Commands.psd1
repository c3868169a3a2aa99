# SPDX-License-Identifier: MIT
# The manifest of the module folder that build.ps1 lays out (it fills in
# PowerShellVersion: the pwsh whose compiler built the DLL).
@{
    RootModule           = 'System.IO.MemoryMappedFiles.Commands.dll'
    # The original module's name and GUID, with a higher version: scripts
    # that require the original (#Requires -Modules, -FullyQualifiedName)
    # get this one.
    ModuleVersion        = '1.3.0'
    GUID                 = '8515ea70-3c13-4fa9-ad9c-2d3325bf5c8f'
    Author               = 'the mmf authors'
    CompanyName          = 'mmf'
    Copyright            = '(c) the mmf authors. MIT License.'
    Description          = 'The System.IO.MemoryMappedFiles.Commands cmdlets on Linux, over libmmf: named memory-mapped files shared between processes, with length-framed content that readers see whole, waiting and listing. The package holds libmmf and its helper mmf-watch (Linux x86-64).'
    PowerShellVersion    = '@PSVERSION@'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('System.IO.MemoryMappedFiles.Commands.format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @('New-MemoryMappedFile', 'Open-MemoryMappedFile', 'Out-MemoryMappedFile',
                             'Read-MemoryMappedFile', 'Remove-MemoryMappedFile', 'Save-MemoryMappedFile',
                             'Wait-MemoryMappedFile', 'Get-MemoryMappedFile')
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('MemoryMappedFile', 'SharedMemory', 'Linux', 'IPC')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = @'
1.3.0: a binary module. What changed since 1.2.0.0:
- The cmdlets are a DLL built with the module (nothing is compiled or
  written at import); the help is MAML, with INPUTS, OUTPUTS, related links
  and about_System.IO.MemoryMappedFiles.Commands; format data shows Name,
  Capacity, Length, Seq and Holders.
- The module folder holds libmmf.so.1 and mmf-watch and loads that libmmf
  first ($env:MMF_LIBRARY, if set, must load; else the folder's; else the
  installed one): installable with Install-PSResource.
- Failures are statement-terminating, as the original's .NET exceptions:
  try/catch catches them without -ErrorAction Stop, as FileNotFoundException
  (missing map or file), IOException (existing one), UnauthorizedAccessException,
  ArgumentOutOfRangeException (sizes, content too large), TimeoutException...
  with readable ErrorIds (MapNotFound, MapExists, ContentTooLarge...).
  -ErrorAction SilentlyContinue or Ignore on the command make them silent.
- Only the map and the string take pipeline input by value:
  42 | Out-MemoryMappedFile -MemoryMappedFile $m replaces the content.
- -Append separates with CRLF, as the original (-Separator chooses).
- Names: anything but '/', '\' and NUL, as the library allows.
- New-MemoryMappedFile ./f CreateNew X 4096 binds, as in the original.
- -UnixFileMode on New-MemoryMappedFile gives other users access.
- The map object has no public handle members; an abandoned map is closed
  by the garbage collector. What a view of a named map writes is published
  on its Flush() and Dispose(): each range it wrote as one whole content,
  in ascending order of offset, at the cost of the bytes written, not of
  the content.
- Tab completion of map names.

1.2.0.0: the original 1.1.1.0 cmdlets on Linux, over libmmf. What differs
from the original:
- Maps are Mmf.MemoryMappedFile objects (their type names start with
  System.IO.MemoryMappedFiles.MemoryMappedFile); .NET's class cannot be made
  for a named map on Linux. They have Dispose(), SafeMemoryMappedFileHandle,
  CreateViewStream() and CreateViewAccessor().
- Content is length-framed: Read-MemoryMappedFile returns what was written,
  without NUL padding or a stale tail, and readers see whole contents.
- A file that -Path creates is an mmf map (a header, then the content);
  -FileMode Open maps any file's bytes.
- Execute access gives no executable pages. Write access alone is refused.
- -Path -Name names the file through a transient map in /dev/shm, gone with
  the last process that holds the file by that name. Global\ and Local\
  prefixes are dropped.
- -FileMode Truncate makes an existing file a new empty map; Append opens or
  creates it, and Out-MemoryMappedFile then appends. Create and Truncate
  refuse a map that processes hold.
- A path given by position contains a '/'.
- -WhatIf, -Confirm and -Verbose work on every cmdlet that the original
  marks SupportsShouldProcess.
- New: Wait-MemoryMappedFile, Get-MemoryMappedFile, and Read-MemoryMappedFile
  -Follow (as tail -f: each appended piece once, a replaced content whole).
'@
        }
    }
}
