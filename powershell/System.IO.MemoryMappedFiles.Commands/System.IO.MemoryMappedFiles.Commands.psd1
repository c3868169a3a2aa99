# SPDX-License-Identifier: MIT
@{
    RootModule           = 'System.IO.MemoryMappedFiles.Commands.psm1'
    # The original module's name and GUID, with a higher version: scripts
    # that require the original (#Requires -Modules, -FullyQualifiedName)
    # get this one.
    ModuleVersion        = '1.2.0.0'
    GUID                 = '8515ea70-3c13-4fa9-ad9c-2d3325bf5c8f'
    Author               = 'the mmf authors'
    CompanyName          = 'mmf'
    Copyright            = '(c) the mmf authors. MIT License.'
    Description          = 'The System.IO.MemoryMappedFiles.Commands cmdlets over libmmf: named memory-mapped files that work on Linux, with length-framed content that readers see whole, waiting and listing.'
    PowerShellVersion    = '7.0'
    CompatiblePSEditions = @('Core')
    FunctionsToExport    = @()
    CmdletsToExport      = @('New-MemoryMappedFile', 'Open-MemoryMappedFile', 'Out-MemoryMappedFile',
                             'Read-MemoryMappedFile', 'Remove-MemoryMappedFile', 'Save-MemoryMappedFile',
                             'Wait-MemoryMappedFile', 'Get-MemoryMappedFile')
    VariablesToExport    = @()
    AliasesToExport      = @()
    FileList             = @('System.IO.MemoryMappedFiles.Commands.psd1', 'System.IO.MemoryMappedFiles.Commands.psm1',
                             'Mmf.cs', 'Commands.cs', 'Help.psd1')
    PrivateData          = @{
        PSData = @{
            Tags         = @('MemoryMappedFile', 'SharedMemory', 'Linux', 'IPC')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = @'
1.2.0.0: the original 1.1.1.0 cmdlets on Linux, over libmmf. What differs:
- Maps are Mmf.MemoryMappedFile objects (their type names start with
  System.IO.MemoryMappedFiles.MemoryMappedFile); .NET's class cannot be made
  for a named map on Linux. They have Dispose(), SafeMemoryMappedFileHandle,
  CreateViewStream() and CreateViewAccessor().
- Content is length-framed: Read-MemoryMappedFile returns what was written,
  without NUL padding or a stale tail, and readers see whole contents.
- Views (CreateViewStream, CreateViewAccessor) are live in every process:
  a write through a view of a named map is published at once, whole, so
  writers of different bytes never undo each other; a view keeps its map.
- A file that -Path creates is an mmf map (a header, then the content);
  -FileMode Open maps any file's bytes.
- Execute access gives no executable pages. Write access alone is refused.
- -Path -Name names the file through a transient map in /dev/shm, gone with
  the last process that holds the file by that name. Global\ and Local\
  prefixes are dropped.
- -FileMode Truncate makes an existing file a new empty map; Append opens or
  creates it, and Out-MemoryMappedFile then appends. Create and Truncate
  refuse a map that processes hold.
- A path given by position contains a '/'; in CreateFromFileSet4 and 5,
  -Name is given by name.
- Errors are non-terminating with categories; -WhatIf, -Confirm and
  -Verbose work on every cmdlet that the original marks SupportsShouldProcess.
- New: Wait-MemoryMappedFile, Get-MemoryMappedFile, and Read-MemoryMappedFile
  -Follow (as tail -f: each appended piece once, a replaced content whole).
'@
        }
    }
}
