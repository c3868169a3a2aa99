# SPDX-License-Identifier: MIT
# System.IO.MemoryMappedFiles.Commands over libmmf: the module's cmdlets, on
# Linux, where .NET's named maps throw PlatformNotSupportedException.  Every
# operation is one libmmf call; this file only marshals strings and objects.

Set-StrictMode -Version 3

# ---- finding libmmf -------------------------------------------------------
# $env:MMF_LIBRARY, then a build tree beside this module, then the system's.
$candidates = @()
if ($env:MMF_LIBRARY) { $candidates += $env:MMF_LIBRARY }
$candidates += (Join-Path $PSScriptRoot '../../build/libmmf.so.1')
$loaded = $false
foreach ($c in $candidates) {
    if (Test-Path -LiteralPath $c) {
        [void][System.Runtime.InteropServices.NativeLibrary]::Load((Resolve-Path -LiteralPath $c).Path)
        $loaded = $true
        break
    }
}
if (-not $loaded) {
    $h = [IntPtr]::Zero
    if (-not [System.Runtime.InteropServices.NativeLibrary]::TryLoad('libmmf.so.1', [ref]$h)) {
        throw "libmmf.so.1 was not found: install mmf (meson install) or set `$env:MMF_LIBRARY to its path"
    }
}

if (-not ('Mmf.Native' -as [type])) {
    Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;

namespace Mmf {
    [StructLayout(LayoutKind.Sequential)]
    public struct Stat {
        public UIntPtr Capacity;
        public UIntPtr Length;
        public ulong Seq;
        public int Raw;
        public int Kind;
        public int ReadOnly;
        public int Transient;
        public uint Holders;
        public int LockPid;
        public ulong ObjectSize;
    }

    public static class Native {
        const string Lib = "libmmf.so.1";
        public const int OpenExisting = 1, Raw = 2, ReadOnly = 4, Private = 8, Transient = 16;
        public const int ENOENT = 2, ENOBUFS = 105, ETIMEDOUT = 110;
        public const int ENOTMMF = 4002, ETOOBIG = 4005;

        [DllImport(Lib)] public static extern int mmf_create([MarshalAs(UnmanagedType.LPUTF8Str)] string name, UIntPtr capacity, int flags, uint mode, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_open([MarshalAs(UnmanagedType.LPUTF8Str)] string name, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_map_file([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern void mmf_close(IntPtr m);
        [DllImport(Lib)] public static extern int mmf_remove([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
        [DllImport(Lib)] public static extern int mmf_write(IntPtr m, byte[] data, UIntPtr len);
        [DllImport(Lib)] public static extern int mmf_append(IntPtr m, byte[] data, UIntPtr len, byte[] sep, UIntPtr sepLen);
        [DllImport(Lib)] public static extern int mmf_read(IntPtr m, byte[] buf, UIntPtr cap, out UIntPtr len, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_save(IntPtr m, [MarshalAs(UnmanagedType.LPUTF8Str)] string path);
        [DllImport(Lib)] public static extern int mmf_stat(IntPtr m, out Stat st);
        [DllImport(Lib)] public static extern int mmf_wait(IntPtr m, ulong after, int timeoutMs, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_lock(IntPtr m, int timeoutMs);
        [DllImport(Lib)] public static extern int mmf_unlock(IntPtr m);
        [DllImport(Lib)] public static extern int mmf_list(out IntPtr list, out UIntPtr count);
        [DllImport(Lib)] static extern IntPtr mmf_strerror(int code);
        [DllImport(Lib)] static extern IntPtr mmf_version();
        [DllImport("libc", EntryPoint = "free")] public static extern void Free(IntPtr p);

        public static string StrError(int code) { return Marshal.PtrToStringUTF8(mmf_strerror(code)); }
        public static string Version() { return Marshal.PtrToStringUTF8(mmf_version()); }

        // The content, whole: its length first, then a copy (again if it grew).
        public static byte[] Read(IntPtr m, out ulong seq) {
            Stat st;
            int r = mmf_stat(m, out st);
            if (r < 0) throw new MmfException(r);
            byte[] buf = new byte[(long)(ulong)st.Length];
            for (;;) {
                UIntPtr len;
                r = mmf_read(m, buf, (UIntPtr)(ulong)buf.Length, out len, out seq);
                if (r == -ENOBUFS) { buf = new byte[(long)(ulong)len]; continue; }
                if (r < 0) throw new MmfException(r);
                if ((ulong)len != (ulong)buf.Length) Array.Resize(ref buf, (int)(ulong)len);
                return buf;
            }
        }

        // One entry of mmf_list()'s array (struct mmf_info, 344 bytes).
        public const int InfoSize = 344;
        public static object[] Info(IntPtr p) {
            return new object[] {
                Marshal.PtrToStringUTF8(p),
                Marshal.ReadInt32(p, 256),           // kind
                Marshal.ReadInt32(p, 260),           // error
                (ulong)Marshal.ReadInt64(p, 264),    // capacity
                (ulong)Marshal.ReadInt64(p, 272),    // length
                (ulong)Marshal.ReadInt64(p, 280),    // seq
                Marshal.ReadInt32(p, 296),           // mode
                Marshal.ReadInt32(p, 300),           // owner
                Marshal.ReadInt32(p, 328),           // transient
                Marshal.ReadInt32(p, 332),           // holders
                Marshal.ReadInt32(p, 336),           // lock pid
            };
        }
    }

    public class MmfException : Exception {
        public int Code;
        public MmfException(int code) : base(Native.StrError(code)) { Code = code; }
    }

    // What New- and Open-MemoryMappedFile return: one libmmf handle.
    public class MemoryMappedFile : IDisposable {
        public string Name { get; internal set; }
        public IntPtr Handle { get; internal set; }
        public bool Persisted { get; internal set; }
        public MemoryMappedFile(string name, IntPtr handle, bool persisted) {
            Name = name; Handle = handle; Persisted = persisted;
        }
        Stat St() {
            Stat st;
            if (Handle == IntPtr.Zero) throw new ObjectDisposedException(Name);
            int r = Native.mmf_stat(Handle, out st);
            if (r < 0) throw new MmfException(r);
            return st;
        }
        public string Kind { get { int k = St().Kind; return k == 0 ? "mmf" : k == 1 ? "raw" : "file"; } }
        public ulong Capacity { get { return (ulong)St().Capacity; } }
        public ulong Length { get { return (ulong)St().Length; } }
        public ulong Seq { get { return St().Seq; } }
        public void Dispose() {
            if (Handle != IntPtr.Zero) { Native.mmf_close(Handle); Handle = IntPtr.Zero; }
        }
        public override string ToString() { return Name; }
    }
}
'@
}

# ---- helpers ------------------------------------------------------------------

# One line, as the mmf command says it: "VERB NAME: what happened".
function Get-MmfMessage([string]$Verb, [string]$Name, [int]$Code, [long]$Size = -1, [ulong]$Capacity = 0) {
    $what = switch ($Code) {
        (-[Mmf.Native]::ENOENT) { 'no such map; create it with New-MemoryMappedFile -Name NAME -Size SIZE' }
        (-17) { 'a map of that name exists; add -CreateOrOpen to open it' }
        (-13) { "permission denied; the map's mode or owner does not let you in" }
        (-4001) { "not a valid map name: use 1-255 letters, digits, '.', '_' or '-' (not first '.' or '-'), or a path containing '/'" }
        (-4010) { 'you may read this map but not write it; nothing was written' }
        (-[Mmf.Native]::ETOOBIG) {
            if ($Size -ge 0) { "$Size bytes do not fit the $Capacity-byte capacity; nothing was written" }
            else { [Mmf.Native]::StrError($Code) }
        }
        default { [Mmf.Native]::StrError($Code) }
    }
    "${Verb} ${Name}: $what"
}

function Assert-Mmf([int]$r, [string]$Verb, [string]$Name) {
    if ($r -lt 0) { throw (Get-MmfMessage $Verb $Name $r) }
}

function Get-MmfHandle($MemoryMappedFile, [string]$Verb) {
    if ($MemoryMappedFile.Handle -eq [IntPtr]::Zero) {
        throw "${Verb} $($MemoryMappedFile.Name): the map was already removed from this process"
    }
    $MemoryMappedFile.Handle
}

# ---- the module's cmdlets -------------------------------------------------------

function New-MemoryMappedFile {
    <#
    .SYNOPSIS
    Creates a named map of a given capacity, or creates-or-opens it, or maps a file.
    .DESCRIPTION
    With -Name and -Size, creates /dev/shm/NAME with room for SIZE bytes of content, rounded
    up to whole 4096-byte pages as .NET's views are. Like
    .NET's named maps, it is not persisted: it disappears when the last process holding it
    removes it or exits, also when processes are killed. -CreateOrOpen opens it if it exists.
    With -Path, maps that file: an mmf map on disk (created with -FileMode CreateNew, Create
    or OpenOrCreate and -Size) or any existing file's bytes (-FileMode Open).
    .PARAMETER Name
    The map's name: 1-255 letters, digits, '.', '_' or '-'.
    .PARAMETER Size
    The capacity in bytes.
    .PARAMETER CreateOrOpen
    Open the map if it exists instead of failing.
    .PARAMETER Path
    A file to map.
    .PARAMETER FileMode
    Open (default), CreateNew, Create or OpenOrCreate.
    .EXAMPLE
    $map = New-MemoryMappedFile -Name "Test" -Size 1024
    .EXAMPLE
    $map = New-MemoryMappedFile -Path ./data.mmf -FileMode CreateNew -Size 4096
    #>
    [CmdletBinding(DefaultParameterSetName = 'Default', SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    [OutputType([Mmf.MemoryMappedFile])]
    param(
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Default')]
        [Parameter(Mandatory = $false, ParameterSetName = 'Path')]
        [Alias('mapName')]
        [string] $Name,

        [Parameter(Mandatory = $true, Position = 1, ParameterSetName = 'Default')]
        [Parameter(Mandatory = $false, ParameterSetName = 'Path')]
        [Alias('capacity')]
        [long] $Size,

        [Parameter(ParameterSetName = 'Default')]
        [switch] $CreateOrOpen,

        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path')]
        [string] $Path,

        [Parameter(Position = 1, ParameterSetName = 'Path')]
        [Alias('mode')]
        [System.IO.FileMode] $FileMode = [System.IO.FileMode]::Open
    )
    $target = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $Name }
    if (-not $PSCmdlet.ShouldProcess($target, 'New-MemoryMappedFile')) { return }
    $h = [IntPtr]::Zero
    if ($PSCmdlet.ParameterSetName -eq 'Default') {
        if ($Size -le 0) { throw (Get-MmfMessage 'New-MemoryMappedFile' $Name -22) }
        $flags = [Mmf.Native]::Transient
        if ($CreateOrOpen) { $flags = $flags -bor [Mmf.Native]::OpenExisting }
        # .NET's views are whole pages: a string of Size characters fits even
        # when its UTF-8 form is a little longer.  So is the capacity here.
        $capacity = [ulong](([Math]::Ceiling($Size / 4096.0)) * 4096)
        Assert-Mmf ([Mmf.Native]::mmf_create($Name, [UIntPtr]$capacity, $flags, 0, [ref]$h)) 'New-MemoryMappedFile' $Name
        return [Mmf.MemoryMappedFile]::new($Name, $h, $false)
    }
    # A path: libmmf takes names with '/' as paths.
    $full = [System.IO.Path]::GetFullPath($Path, (Get-Location).ProviderPath)
    $label = if ($Name) { $Name } else { $full }
    switch ($FileMode) {
        'Open' {
            $r = [Mmf.Native]::mmf_open($full, 0, [ref]$h)
            if ($r -eq -[Mmf.Native]::ENOTMMF) { $r = [Mmf.Native]::mmf_map_file($full, 0, [ref]$h) }
            Assert-Mmf $r 'New-MemoryMappedFile' $full
        }
        'Create' {
            $r = [Mmf.Native]::mmf_remove($full)
            if ($r -lt 0 -and $r -ne -[Mmf.Native]::ENOENT) { Assert-Mmf $r 'New-MemoryMappedFile' $full }
            Assert-Mmf ([Mmf.Native]::mmf_create($full, [UIntPtr][ulong]$Size, 0, 0, [ref]$h)) 'New-MemoryMappedFile' $full
        }
        'CreateNew' {
            Assert-Mmf ([Mmf.Native]::mmf_create($full, [UIntPtr][ulong]$Size, 0, 0, [ref]$h)) 'New-MemoryMappedFile' $full
        }
        'OpenOrCreate' {
            $r = [Mmf.Native]::mmf_create($full, [UIntPtr][ulong][Math]::Max($Size, 1), [Mmf.Native]::OpenExisting, 0, [ref]$h)
            if ($r -eq -[Mmf.Native]::ENOTMMF) { $r = [Mmf.Native]::mmf_map_file($full, 0, [ref]$h) }
            Assert-Mmf $r 'New-MemoryMappedFile' $full
        }
        default { throw "New-MemoryMappedFile ${full}: FileMode $FileMode is not supported; use Open, CreateNew, Create or OpenOrCreate" }
    }
    [Mmf.MemoryMappedFile]::new($label, $h, $true)
}

function Open-MemoryMappedFile {
    <#
    .SYNOPSIS
    Opens, by name, a map that another process made.
    .DESCRIPTION
    Opens /dev/shm/NAME. A map made by New-MemoryMappedFile, the mmf command or a C program
    is opened as an mmf map; an object of another program (e.g. Python's SharedMemory) as raw
    bytes. While this process holds it, a non-persisted map stays.
    .PARAMETER Name
    The map's name.
    .EXAMPLE
    $map = Open-MemoryMappedFile -Name "Test"
    #>
    [CmdletBinding()]
    [OutputType([Mmf.MemoryMappedFile])]
    param(
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true)]
        [Alias('mapName')]
        [string] $Name
    )
    process {
        $h = [IntPtr]::Zero
        $r = [Mmf.Native]::mmf_open($Name, 0, [ref]$h)
        if ($r -eq -[Mmf.Native]::ENOTMMF) { $r = [Mmf.Native]::mmf_open($Name, [Mmf.Native]::Raw, [ref]$h) }
        Assert-Mmf $r 'Open-MemoryMappedFile' $Name
        [Mmf.MemoryMappedFile]::new($Name, $h, $false)
    }
}

function Out-MemoryMappedFile {
    <#
    .SYNOPSIS
    Writes a string into the map, as its whole new content, or appends it.
    .DESCRIPTION
    The string is stored as UTF-8, length-framed: a later Read-MemoryMappedFile returns it
    exactly, and readers in other processes see the old content or the new one, never a mix.
    -Append adds a newline and the string. A string larger than the capacity is refused and
    nothing changes.
    .PARAMETER MemoryMappedFile
    The map, from New- or Open-MemoryMappedFile.
    .PARAMETER String
    The text; it can come from the pipeline.
    .PARAMETER Append
    Add a newline and the string to what is there.
    .EXAMPLE
    Out-MemoryMappedFile -MemoryMappedFile $map -String "Hello"
    .EXAMPLE
    Get-Date | ConvertTo-Json | Out-MemoryMappedFile -MemoryMappedFile $map
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Low')]
    param(
        [Parameter(Mandatory = $true, Position = 0)]
        $MemoryMappedFile,
        [Parameter(Mandatory = $true, Position = 1, ValueFromPipeline = $true)]
        [AllowEmptyString()]
        [string] $String,
        [switch] $Append
    )
    process {
        $h = Get-MmfHandle $MemoryMappedFile 'Out-MemoryMappedFile'
        if (-not $PSCmdlet.ShouldProcess($MemoryMappedFile.Name, 'Out-MemoryMappedFile')) { return }
        $bytes = [System.Text.Encoding]::UTF8.GetBytes($String)
        if ($Append) {
            $sep = [byte[]]@(10)
            $r = [Mmf.Native]::mmf_append($h, $bytes, [UIntPtr][ulong]$bytes.Length, $sep, [UIntPtr][ulong]1)
        } else {
            $r = [Mmf.Native]::mmf_write($h, $bytes, [UIntPtr][ulong]$bytes.Length)
        }
        if ($r -lt 0) {
            $cap = if ($r -eq -[Mmf.Native]::ETOOBIG) { $MemoryMappedFile.Capacity } else { 0 }
            throw (Get-MmfMessage 'Out-MemoryMappedFile' $MemoryMappedFile.Name $r $bytes.Length $cap)
        }
    }
}

function Read-MemoryMappedFile {
    <#
    .SYNOPSIS
    Reads the map's content as a string.
    .DESCRIPTION
    Returns the last published content, exactly as written (UTF-8): no NUL bytes to strip,
    no stale tail. For a raw object or a mapped file, all its bytes, less trailing NULs.
    .PARAMETER MemoryMappedFile
    The map, from New- or Open-MemoryMappedFile.
    .EXAMPLE
    Read-MemoryMappedFile -MemoryMappedFile $map | ConvertFrom-Json
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true)]
        $MemoryMappedFile
    )
    process {
        $h = Get-MmfHandle $MemoryMappedFile 'Read-MemoryMappedFile'
        $seq = [ulong]0
        try { $bytes = [Mmf.Native]::Read($h, [ref]$seq) }
        catch [Mmf.MmfException] { throw (Get-MmfMessage 'Read-MemoryMappedFile' $MemoryMappedFile.Name $_.Exception.Code) }
        $text = [System.Text.Encoding]::UTF8.GetString($bytes)
        if ($MemoryMappedFile.Kind -ne 'mmf') { $text = $text.TrimEnd([char]0) }
        $text
    }
}

function Remove-MemoryMappedFile {
    <#
    .SYNOPSIS
    Releases this process's handle of the map.
    .DESCRIPTION
    A map made by New-MemoryMappedFile -Name disappears when the last process holding it
    removes it (or exits). A persisted map (a path) stays on disk.
    .PARAMETER MemoryMappedFile
    The map to release.
    .EXAMPLE
    Remove-MemoryMappedFile -MemoryMappedFile $map
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true)]
        $MemoryMappedFile
    )
    process {
        if ($PSCmdlet.ShouldProcess($MemoryMappedFile.Name, 'Remove-MemoryMappedFile')) {
            $MemoryMappedFile.Dispose()
        }
    }
}

function Save-MemoryMappedFile {
    <#
    .SYNOPSIS
    Saves the map's content to a file.
    .DESCRIPTION
    Writes the content to Path atomically (a temporary file renamed into place).
    .PARAMETER MemoryMappedFile
    The map.
    .PARAMETER Path
    The file to write.
    .EXAMPLE
    Save-MemoryMappedFile -MemoryMappedFile $map -Path ./test.json
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param(
        [Parameter(Mandatory = $true, Position = 0)]
        $MemoryMappedFile,
        [Parameter(Mandatory = $true, Position = 1)]
        [string] $Path
    )
    $h = Get-MmfHandle $MemoryMappedFile 'Save-MemoryMappedFile'
    $full = [System.IO.Path]::GetFullPath($Path, (Get-Location).ProviderPath)
    if ($PSCmdlet.ShouldProcess($full, 'Save-MemoryMappedFile')) {
        $r = [Mmf.Native]::mmf_save($h, $full)
        if ($r -lt 0) { throw "Save-MemoryMappedFile $($MemoryMappedFile.Name): cannot save to '${full}': $([Mmf.Native]::StrError($r)); the file was not changed" }
    }
}

# ---- beyond the module ----------------------------------------------------------

function Wait-MemoryMappedFile {
    <#
    .SYNOPSIS
    Waits until the map holds a content newer than -After, and returns its seq.
    .DESCRIPTION
    Sleeps without using the CPU and wakes as soon as another process writes: use it instead
    of "press ENTER to continue". -After defaults to the current content's seq.
    .PARAMETER MemoryMappedFile
    The map.
    .PARAMETER After
    Wait for a seq greater than this.
    .PARAMETER TimeoutSeconds
    Give up after this many seconds with an error (default: wait without limit).
    .EXAMPLE
    $seq = Wait-MemoryMappedFile -MemoryMappedFile $map -TimeoutSeconds 30
    #>
    [CmdletBinding()]
    [OutputType([ulong])]
    param(
        [Parameter(Mandatory = $true, Position = 0)]
        $MemoryMappedFile,
        [ulong] $After,
        [double] $TimeoutSeconds = -1
    )
    $h = Get-MmfHandle $MemoryMappedFile 'Wait-MemoryMappedFile'
    if (-not $PSBoundParameters.ContainsKey('After')) { $After = $MemoryMappedFile.Seq }
    $ms = if ($TimeoutSeconds -lt 0) { -1 } else { [int][Math]::Ceiling($TimeoutSeconds * 1000) }
    $seq = [ulong]0
    $r = [Mmf.Native]::mmf_wait($h, $After, $ms, [ref]$seq)
    if ($r -eq -[Mmf.Native]::ETIMEDOUT) {
        throw "Wait-MemoryMappedFile $($MemoryMappedFile.Name): no content newer than seq $After within the timeout"
    }
    Assert-Mmf $r 'Wait-MemoryMappedFile' $MemoryMappedFile.Name
    $seq
}

function Get-MemoryMappedFile {
    <#
    .SYNOPSIS
    Lists the maps in /dev/shm.
    .DESCRIPTION
    One object per map the user can see, with Name, Kind (mmf or raw), Capacity, Length,
    Seq, Mode, Owner, Holders and LockPid. Maps whose holders all died are removed first.
    .PARAMETER Name
    Only the maps whose name matches this wildcard pattern.
    .EXAMPLE
    Get-MemoryMappedFile | Where-Object Kind -eq 'mmf'
    #>
    [CmdletBinding()]
    param([Parameter(Position = 0)][string] $Name = '*')
    $list = [IntPtr]::Zero
    $count = [UIntPtr]::Zero
    Assert-Mmf ([Mmf.Native]::mmf_list([ref]$list, [ref]$count)) 'Get-MemoryMappedFile' '/dev/shm'
    try {
        for ($i = 0; $i -lt [long][ulong]$count; $i++) {
            $f = [Mmf.Native]::Info([IntPtr]::Add($list, $i * [Mmf.Native]::InfoSize))
            if ($f[0] -notlike $Name) { continue }
            [pscustomobject]@{
                PSTypeName = 'Mmf.MapInfo'
                Name       = $f[0]
                Kind       = @('mmf', 'raw', 'file')[$f[1]]
                Capacity   = $f[3]
                Length     = $f[4]
                Seq        = $f[5]
                Mode       = [Convert]::ToString($f[6], 8).PadLeft(4, '0')
                Owner      = $f[7]
                Transient  = [bool]$f[8]
                Holders    = $f[9]
                LockPid    = $f[10]
                Error      = if ($f[2]) { [Mmf.Native]::StrError($f[2]) } else { $null }
            }
        }
    } finally {
        [Mmf.Native]::Free($list)
    }
}

Export-ModuleMember -Function New-MemoryMappedFile, Open-MemoryMappedFile, Out-MemoryMappedFile,
    Read-MemoryMappedFile, Remove-MemoryMappedFile, Save-MemoryMappedFile, Wait-MemoryMappedFile,
    Get-MemoryMappedFile
