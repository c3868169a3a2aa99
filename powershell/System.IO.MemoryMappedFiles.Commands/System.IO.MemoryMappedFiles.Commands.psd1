@{
    RootModule        = 'System.IO.MemoryMappedFiles.Commands.psm1'
    ModuleVersion     = '1.1.1.0'
    GUID              = 'b7f2d0c4-5e8a-4f3b-9a61-2c4d8e9f1a07'
    Author            = 'mmf'
    Description       = 'The MemoryMappedFile cmdlets over libmmf: named maps that work on Linux, with framed, atomic content, waiting and locking.'
    PowerShellVersion = '7.0'
    CompatiblePSEditions = @('Core')
    FunctionsToExport = @('New-MemoryMappedFile', 'Open-MemoryMappedFile', 'Out-MemoryMappedFile',
                          'Read-MemoryMappedFile', 'Remove-MemoryMappedFile', 'Save-MemoryMappedFile',
                          'Wait-MemoryMappedFile', 'Get-MemoryMappedFile')
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
    PrivateData       = @{ PSData = @{ Tags = @('MemoryMappedFile', 'SharedMemory', 'Linux', 'IPC') } }
}
