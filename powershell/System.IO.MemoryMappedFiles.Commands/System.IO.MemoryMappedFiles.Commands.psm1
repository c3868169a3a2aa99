# SPDX-License-Identifier: MIT
# System.IO.MemoryMappedFiles.Commands over libmmf.  The cmdlets are compiled
# from Mmf.cs and Commands.cs (compiled cmdlets bind positional arguments by
# type, as the original's do); this file finds libmmf, builds the assembly
# once per source version into the user's cache, with its help (Help.psd1
# made into the MAML that Get-Help reads), and imports it.

Set-StrictMode -Version 3

# ---- finding libmmf -------------------------------------------------------
# $env:MMF_LIBRARY; then the library this module was installed with
# (Install.psd1, written by meson install); then a build tree beside the
# source; then the system's search path.
$candidates = [Collections.Generic.List[string]]::new()
if ($env:MMF_LIBRARY) { $candidates.Add($env:MMF_LIBRARY) }
$install = Join-Path $PSScriptRoot 'Install.psd1'
if (Test-Path -LiteralPath $install) { $candidates.Add((Import-PowerShellDataFile -LiteralPath $install).Library) }
$candidates.Add((Join-Path $PSScriptRoot '../../build/libmmf.so.1'))
$loaded = $false
foreach ($c in $candidates) {
    if (Test-Path -LiteralPath $c) {
        [void][Runtime.InteropServices.NativeLibrary]::Load((Resolve-Path -LiteralPath $c).Path)
        $loaded = $true
        break
    }
}
if (-not $loaded) {
    $h = [IntPtr]::Zero
    if (-not [Runtime.InteropServices.NativeLibrary]::TryLoad('libmmf.so.1', [ref]$h)) {
        throw "libmmf.so.1 was not found (looked at: $($candidates -join ', ') and the system's library path): install mmf, or set `$env:MMF_LIBRARY to its path"
    }
}

# ---- the help, as MAML ------------------------------------------------------------

function ConvertTo-MamlText([string]$Text) {
    [Security.SecurityElement]::Escape($Text)
}

function ConvertTo-MamlParas([string]$Text) {
    ($Text -split "`n\s*`n" | ForEach-Object {
        "<maml:para>$(ConvertTo-MamlText (($_ -split "`n" | ForEach-Object Trim) -join ' '))</maml:para>"
    }) -join "`n"
}

# One <command:parameter> of a syntax item or of the parameter list.
function ConvertTo-MamlParameter($Param, $SetData, [hashtable]$Text, [switch]$Describe) {
    $type = $Param.ParameterType
    $pipe = @()
    if ($SetData.ValueFromPipeline) { $pipe += 'ByValue' }
    if ($SetData.ValueFromPipelineByPropertyName) { $pipe += 'ByPropertyName' }
    $pipeText = if ($pipe) { "True ($($pipe -join ', '))" } else { 'False' }
    $pos = if ($SetData.Position -ge 0) { $SetData.Position } else { 'named' }
    $aliases = if ($Param.Aliases.Count) { $Param.Aliases -join ', ' } else { 'none' }
    $value = if ($type -eq [Management.Automation.SwitchParameter]) { '' } else {
        "<command:parameterValue required=`"true`" variableLength=`"false`">$(ConvertTo-MamlText $type.Name)</command:parameterValue>"
    }
    $desc = if ($Describe) {
        $t = if ($Text.ContainsKey($Param.Name)) { $Text[$Param.Name] } else { '' }
        "<maml:description>$(ConvertTo-MamlParas $t)</maml:description><dev:type><maml:name>$(ConvertTo-MamlText $type.FullName)</maml:name></dev:type>"
    } else { '' }
    $enum = if ($type.IsEnum) {
        "<command:parameterValueGroup>" + (($type.GetEnumNames() | ForEach-Object {
            "<command:parameterValue required=`"false`" variableLength=`"false`">$_</command:parameterValue>" }) -join '') + "</command:parameterValueGroup>"
    } else { '' }
    "<command:parameter required=`"$($SetData.IsMandatory.ToString().ToLower())`" variableLength=`"false`" globbing=`"false`" pipelineInput=`"$pipeText`" position=`"$pos`" aliases=`"$aliases`"><maml:name>$($Param.Name)</maml:name>$desc$enum$value</command:parameter>"
}

# The MAML for every cmdlet of the module: the text from Help.psd1, the
# syntax and parameter facts from the cmdlets themselves.
function New-MamlHelp($Commands, [hashtable]$Help) {
    $common = [Management.Automation.Cmdlet]::CommonParameters + [Management.Automation.Cmdlet]::OptionalCommonParameters
    $sb = [Text.StringBuilder]::new()
    [void]$sb.AppendLine('<?xml version="1.0" encoding="utf-8"?>')
    [void]$sb.AppendLine('<helpItems schema="maml" xmlns="http://msh">')
    foreach ($c in $Commands) {
        $h = $Help[$c.Name]
        [void]$sb.AppendLine('<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
        [void]$sb.AppendLine("<command:details><command:name>$($c.Name)</command:name><command:verb>$($c.Verb)</command:verb><command:noun>$($c.Noun)</command:noun><maml:description>$(ConvertTo-MamlParas $h.Synopsis)</maml:description></command:details>")
        [void]$sb.AppendLine("<maml:description>$(ConvertTo-MamlParas $h.Description)</maml:description>")
        [void]$sb.AppendLine('<command:syntax>')
        foreach ($set in $c.ParameterSets) {
            [void]$sb.Append("<command:syntaxItem><maml:name>$($c.Name)</maml:name>")
            $ps = $set.Parameters | Where-Object { $_.Name -notin $common } |
                Sort-Object @{ Expression = { if ($_.Position -ge 0) { $_.Position } else { 1000 } } }
            foreach ($p in $ps) {
                [void]$sb.Append((ConvertTo-MamlParameter $c.Parameters[$p.Name] $p $h.Parameters))
            }
            [void]$sb.AppendLine('</command:syntaxItem>')
        }
        [void]$sb.AppendLine('</command:syntax><command:parameters>')
        foreach ($p in $c.Parameters.Values | Where-Object { $_.Name -notin $common }) {
            $data = $p.ParameterSets.Values | Select-Object -First 1
            [void]$sb.AppendLine((ConvertTo-MamlParameter $p $data $h.Parameters -Describe))
        }
        [void]$sb.AppendLine('</command:parameters>')
        if ($h.ContainsKey('Outputs')) {
            [void]$sb.AppendLine("<command:returnValues><command:returnValue><dev:type><maml:name>$(ConvertTo-MamlText $h.Outputs[0])</maml:name></dev:type><maml:description>$(ConvertTo-MamlParas $h.Outputs[1])</maml:description></command:returnValue></command:returnValues>")
        }
        if ($h.ContainsKey('Notes')) {
            [void]$sb.AppendLine("<maml:alertSet><maml:alert>$(ConvertTo-MamlParas $h.Notes)</maml:alert></maml:alertSet>")
        }
        [void]$sb.AppendLine('<command:examples>')
        $i = 0
        foreach ($e in $h.Examples) {
            $i++
            [void]$sb.AppendLine("<command:example><maml:title>-------------------------- Example $i --------------------------</maml:title><dev:code>$(ConvertTo-MamlText $e.Code)</dev:code><dev:remarks>$(ConvertTo-MamlParas $e.Remarks)</dev:remarks></command:example>")
        }
        [void]$sb.AppendLine('</command:examples></command:command>')
    }
    [void]$sb.AppendLine('</helpItems>')
    $sb.ToString()
}

# ---- the compiled cmdlets -----------------------------------------------------------

$sources = @('Mmf.cs', 'Commands.cs') | ForEach-Object { Join-Path $PSScriptRoot $_ }
$helpData = Join-Path $PSScriptRoot 'Help.psd1'
$sha = [Security.Cryptography.SHA256]::Create()
$all = ($sources + $helpData + $PSCommandPath | ForEach-Object { [IO.File]::ReadAllText($_) }) -join "`0"
$key = -join ($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($all + $PSVersionTable.PSVersion)) |
    Select-Object -First 8 | ForEach-Object { $_.ToString('x2') })
$assemblyName = 'System.IO.MemoryMappedFiles.Commands.Cmdlets'
$loadedType = 'Mmf.NewMemoryMappedFileCommand' -as [type]
if ($loadedType) {
    # Imported again in this session: the assembly is loaded already.
    $dll = $loadedType.Assembly.Location
} else {
    # Built once per version of the sources, in a folder of the user's.
    $root = $null
    $base = if ($env:XDG_CACHE_HOME) { $env:XDG_CACHE_HOME } elseif ($HOME) { Join-Path $HOME '.cache' } else { $null }
    if ($base) {
        try {
            $root = Join-Path $base 'mmf/powershell'
            [void][IO.Directory]::CreateDirectory($root)
        } catch { $root = $null }
    }
    if (-not $root) {
        $root = Join-Path ([IO.Path]::GetTempPath()) "mmf-powershell-$(& id -u)"
        [void][IO.Directory]::CreateDirectory($root, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
        $item = Get-Item -LiteralPath $root -Force
        if ($item.LinkTarget -or "$(& stat -c %u -- $root)" -ne "$(& id -u)" -or
            ($item.UnixFileMode -band [IO.UnixFileMode]'GroupWrite, OtherWrite')) {
            throw "System.IO.MemoryMappedFiles.Commands: $root is not this user's own folder; set XDG_CACHE_HOME to one"
        }
    }
    $dir = Join-Path $root $key
    $dll = Join-Path $dir "$assemblyName.dll"
    if (-not (Test-Path -LiteralPath $dll)) {
        [void][IO.Directory]::CreateDirectory($dir)
        # Made under a name of our own, then renamed: another pwsh may be
        # building the same at the same moment.
        $tmp = Join-Path $dir "$assemblyName.$PID.tmp"
        Add-Type -Path $sources -OutputAssembly $tmp -OutputType Library -ErrorAction Stop
        Move-Item -LiteralPath $tmp -Destination $dll -Force
    }
}

if ($dll) {
    $binary = Import-Module -Name $dll -PassThru -ErrorAction Stop
    $helpFile = Join-Path (Split-Path $dll) "$assemblyName.dll-Help.xml"
    if (-not (Test-Path -LiteralPath $helpFile)) {
        $xml = New-MamlHelp ($binary.ExportedCmdlets.Values) (Import-PowerShellDataFile -LiteralPath $helpData)
        $tmp = "$helpFile.$PID.tmp"
        [IO.File]::WriteAllText($tmp, $xml)
        Move-Item -LiteralPath $tmp -Destination $helpFile -Force
    }
}

Export-ModuleMember -Cmdlet New-MemoryMappedFile, Open-MemoryMappedFile, Out-MemoryMappedFile,
    Read-MemoryMappedFile, Remove-MemoryMappedFile, Save-MemoryMappedFile, Wait-MemoryMappedFile,
    Get-MemoryMappedFile
