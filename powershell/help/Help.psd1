# SPDX-License-Identifier: MIT
# The cmdlets' help text; build.ps1 makes it into the MAML that Get-Help
# reads, with the syntax and parameter facts taken from the compiled cmdlets.
# Inputs and Outputs are pairs: a type, then what it is.
@{
    'New-MemoryMappedFile' = @{
        Synopsis    = 'Creates a named memory-mapped file, or maps a file.'
        Description = @'
With -Name and -Size, creates the map /dev/shm/NAME with room for SIZE bytes of content, rounded up to whole 4096-byte pages as .NET's views are. As .NET's named maps, it is not persisted: it disappears when the last process holding it removes it, exits or is killed. -CreateOrOpen opens it instead if it exists. It is readable and writable by its owner only.

With -Path, maps a file: an mmf map on disk, created by -FileMode CreateNew, Create, OpenOrCreate, Truncate or Append (with -Size), or an existing file's bytes (-FileMode Open). With -Name too, other processes open it by that name, through a small transient map /dev/shm/NAME that goes with the last process holding the file by that name. Create and Truncate refuse a map that processes hold.

With -FileStream, maps the file of an open FileStream (extended to -Size if shorter); -leaveOpen $false disposes the stream with the map.

Content written by Out-MemoryMappedFile is length-framed and published whole: readers in other processes see the old content or the new one, never a mix, and never NUL padding or a stale tail.

Positional arguments bind by type, as with the original: "New-MemoryMappedFile Test 1024" names a map; "New-MemoryMappedFile ./data CreateNew Data 4096" maps a file and names it Data (a path given by position needs a '/').

Failures are statement-terminating errors with the .NET exception .NET throws: IOException (ErrorId MapExists) for an existing name, ArgumentOutOfRangeException (SizeOutOfRange) for a bad -Size, UnauthorizedAccessException (AccessDenied), FileNotFoundException (FileNotFound) for a missing file; try/catch catches them without -ErrorAction Stop.
'@
        Parameters  = @{
            Name                    = "The map's name: up to 255 bytes of UTF-8, anything but '/', '\' (refused as .NET refuses it) and NUL. Global\ and Local\ prefixes are dropped. With -Path or -FileStream, the name other processes open the file by. Tab completion offers the names in /dev/shm. A bad name (one with '/' too) is an ArgumentException (ErrorId InvalidMapName); a string with '/' given by position is a path: it goes to -Path."
            Size                    = 'The capacity in bytes (at least 1). With -Path, needed when the mode creates a map; -Path FILE -FileMode CreateNew -Size SIZE (beyond the original) maps a new file without a name in /dev/shm.'
            CreateOrOpen            = 'Open the map if it exists instead of failing.'
            MemoryMappedFileAccess  = 'ReadWrite (default), Read, CopyOnWrite, ReadExecute or ReadWriteExecute. Read and CopyOnWrite give a handle that cannot write (views of it are copies). The pages are never executable: the Execute values give the same access without it. Write is refused, as by .NET: a map must be readable.'
            MemoryMappedFileOptions = "None or DelayAllocatePages. Both are accepted: libmmf allocates a map's pages when they are first written. The cmdlets report a full store as an error; a raw object or a mapped file written through a view on a full store can crash pwsh (a SIGBUS, AccessViolationException), as with .NET."
            HandleInheritability    = "Inheritable lets child processes (Start-Process, &) inherit the map's descriptor: the map then stays until they, too, have exited. None (default) does not."
            Path                    = 'The file to map.'
            FileMode                = 'CreateNew (fails if the file exists), Create (replaces it), Open (it must exist; an mmf map, or any file as raw bytes), OpenOrCreate, Truncate (it must exist; it becomes a new, empty map of -Size bytes) or Append (OpenOrCreate; Out-MemoryMappedFile then appends without -Append).'
            FileStream              = 'An open FileStream whose file is mapped.'
            leaveOpen               = '$false disposes the FileStream when the map is disposed; $true leaves it to the caller.'
            UnixFileMode            = "Not in the original module. The permission bits of the map (or of the file -Path creates), as chmod takes them: 0640 or '0640' (an integer is read as octal digits), or an [IO.UnixFileMode] value. Applied exactly, whatever the umask. Default: 0600, the owner only."
        }
        Inputs      = @('System.String', 'The map name, by value; any parameter by property name.')
        Outputs     = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'An Mmf.MemoryMappedFile whose type names start with System.IO.MemoryMappedFiles.MemoryMappedFile, with Dispose(), SafeMemoryMappedFileHandle, CreateViewStream() and CreateViewAccessor() (a view of a map made by name reads one whole content, the one published at its first read or after its last Flush(); see about_System.IO.MemoryMappedFiles.Commands), and Name, Kind, Capacity, Length, Seq and Holders. Nothing on failure. A map nobody references any more is closed when the garbage collector finds it.')
        Notes       = 'What a view of a named map writes is published on the view''s Flush() and Dispose() (StreamWriter.Flush() and Dispose() flush the stream), each range of bytes it wrote as one new whole content, in ascending order of offset (a range past the end grows the content with zeros): other processes, and other views, then see each range whole, never half (between two ranges of one Flush(), the first without the second), and writers of different bytes never undo each other. Until then only the view itself sees its writes. Views of raw objects and mapped plain files are the mapped bytes, seen at once. A view keeps its map open. A file that -Path creates is an mmf map: a header, then the content.'
        Examples    = @(
            @{ Code = '$map = New-MemoryMappedFile -Name "Test" -Size 1024'; Remarks = 'Creates the map Test with room for 1024 bytes (4096, whole pages).' }
            @{ Code = '$map = New-MemoryMappedFile -Name "Test" -Size 1024 -MemoryMappedFileAccess ReadWriteExecute'; Remarks = 'The same, with the access the original example asks for.' }
            @{ Code = '$map = New-MemoryMappedFile -Path ./data.mmf -FileMode CreateNew -Name Data -Size 4096'; Remarks = 'Creates a map in the file data.mmf that other processes open as Data.' }
            @{ Code = "[pscustomobject]@{ Name = 'Test'; Size = 4096 } | New-MemoryMappedFile"; Remarks = 'Parameters from the properties of a piped object.' }
            @{ Code = "New-MemoryMappedFile -Name 'Shared Data' -Size 4096 -UnixFileMode 0640"; Remarks = 'A map that the members of the group may read.' }
            @{ Code = "try { New-MemoryMappedFile Test 1024 } catch [System.IO.IOException] { Open-MemoryMappedFile Test }"; Remarks = 'Creates the map, or opens it if another process made it first.' }
        )
    }
    'Open-MemoryMappedFile' = @{
        Synopsis    = 'Opens, by name, a memory-mapped file that another process made.'
        Description = @'
Opens /dev/shm/NAME. A map made by New-MemoryMappedFile, the mmf command or a C program is opened as an mmf map; an object of another program (Python's SharedMemory, say) as raw bytes; a name given by New-MemoryMappedFile -Path -Name opens that file. While this process holds it, a non-persisted map stays.
'@
        Parameters  = @{
            Name                   = "The map's name (Global\ and Local\ prefixes are dropped). Tab completion offers the names in /dev/shm."
            MemoryMappedFileRights = 'Rights with Write (ReadWrite, FullControl, ...) open it for reading and writing; others (Read, ReadExecute, CopyOnWrite, ...) without write access. A map the caller may only read is opened without write access whatever is asked.'
            HandleInheritability   = "Inheritable lets child processes inherit the map's descriptor (the map stays while they run). None (default) does not."
        }
        Inputs      = @('System.String', 'The map name, by value; any parameter by property name.')
        Outputs     = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'An Mmf.MemoryMappedFile; nothing on failure. A missing map is a statement-terminating FileNotFoundException (ErrorId MapNotFound), which try/catch catches without -ErrorAction Stop.')
        Examples    = @(
            @{ Code = '$map = Open-MemoryMappedFile -Name "Test"'; Remarks = 'Opens the map Test.' }
            @{ Code = '$map = Open-MemoryMappedFile -Name "Test" -MemoryMappedFileRights FullControl -HandleInheritability Inheritable'; Remarks = 'Opens it for writing; children started later inherit it.' }
            @{ Code = "'Test' | Open-MemoryMappedFile"; Remarks = 'The name from the pipeline.' }
            @{ Code = 'while ($true) { try { $map = Open-MemoryMappedFile -Name Test; break } catch [System.IO.FileNotFoundException] { Start-Sleep -Milliseconds 100 } }'; Remarks = 'Waits until the producer has made the map.' }
        )
    }
    'Out-MemoryMappedFile' = @{
        Synopsis    = 'Writes a string into the memory-mapped file, as its whole new content, or appends it.'
        Description = @'
The string is stored as UTF-8, length-framed: a later Read-MemoryMappedFile returns it exactly, and readers in other processes see the old content or the new one, never a mix. -Append adds CRLF, as the original does (or -Separator), and the string (so does every write to a map made with -FileMode Append). An append costs what it adds, whatever the content's size, except the first one after a whole write, which copies the content once (about 0.1-0.2 s for 100 MB). A string larger than the room left is refused, with an ArgumentOutOfRangeException (ErrorId ContentTooLarge) that says how much fits, and nothing changes. For a raw object or a mapped file, the bytes are written at its start.
'@
        Parameters  = @{
            MemoryMappedFile = 'The map, from New- or Open-MemoryMappedFile.'
            String           = 'The text; it can come from the pipeline. An empty string writes a content of 0 bytes (with -Append, it appends the separator alone).'
            Append           = 'Add the separator (CRLF, as the original writes) and the string to what is there.'
            Separator        = 'Not in the original module. What -Append puts between the content and the string: CRLF unless given ("`n" for LF, "" for none). Nothing goes before the first piece of an empty content.'
        }
        Inputs      = @('System.String', 'The text, by value (a number or any object becomes its string); the map by value too; any parameter by property name.')
        Outputs     = @('None', 'Nothing.')
        Examples    = @(
            @{ Code = 'Out-MemoryMappedFile -MemoryMappedFile $map -String "Hello"'; Remarks = 'Replaces the content with Hello.' }
            @{ Code = 'Get-Date | ConvertTo-Json | Out-MemoryMappedFile -MemoryMappedFile $map'; Remarks = 'A JSON document from the pipeline.' }
            @{ Code = '$map | Out-MemoryMappedFile -String "Process B says: Hello World!" -Append'; Remarks = 'Appends a line (CRLF, then the text).' }
            @{ Code = '42 | Out-MemoryMappedFile -MemoryMappedFile $map'; Remarks = 'Replaces the content with 42.' }
        )
    }
    'Read-MemoryMappedFile' = @{
        Synopsis    = "Reads the memory-mapped file's content as a string."
        Description = 'Returns the last published content, exactly as written (UTF-8): no NUL bytes to strip, no stale tail. For a raw object or a mapped file, all its bytes, less trailing NULs.'
        Parameters  = @{
            MemoryMappedFile = 'The map, from New- or Open-MemoryMappedFile.'
            Follow           = 'Not in the original module. Write the content, then every later content as it is published, as tail -f does: only what was appended since the last one written out when the new content extends it (Out-MemoryMappedFile -Append in any process), one string per piece appended, without the separator before it, however close together the appends came (pieces are told apart by -Separator), the whole content otherwise, with a warning. Ends at -TimeoutSeconds or Ctrl+C (at once, as does PowerShell.Stop()); a Dispose() of the map in another runspace ends it with an ObjectDisposedException that names the map.'
            TimeoutSeconds   = 'With -Follow: stop after this many seconds, 0 or more (default: follow until Ctrl+C); a negative number or NaN is refused (TimeoutOutOfRange).'
            WhatIf           = 'Accepted, as the original module takes it, but a read changes nothing: it reads all the same (neither -WhatIf nor $WhatIfPreference stops it).'
            Confirm          = 'Accepted, as the original module takes it; a read changes nothing and asks nothing.'
            Separator        = 'With -Follow: what the appender put between pieces (the -Separator of Out-MemoryMappedFile -Append), on which an appended text is split into one string per piece. Default CRLF, Out-MemoryMappedFile''s own, with a bare LF (what the mmf command appends with) recognised too; an empty string splits nothing (one string per publication).'
        }
        Inputs      = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'The map, by value or by property name.')
        Outputs     = @('System.String', 'The content; with -Follow, one string per piece appended.')
        Examples    = @(
            @{ Code = 'Read-MemoryMappedFile -MemoryMappedFile $map | ConvertFrom-Json'; Remarks = 'Reads a JSON document that another process wrote.' }
            @{ Code = '$map | Read-MemoryMappedFile'; Remarks = 'The map from the pipeline.' }
            @{ Code = 'Read-MemoryMappedFile $map -Follow -TimeoutSeconds 60 | ForEach-Object { "got: $_" }'; Remarks = 'Follows what other processes append for a minute.' }
        )
    }
    'Remove-MemoryMappedFile' = @{
        Synopsis    = "Releases this process's handle of the memory-mapped file."
        Description = 'Disposes the map: a map made by New-MemoryMappedFile -Name disappears when the last process holding it removes it (or exits). A persisted map (a path) stays on disk; the name that -Path -Name gave it goes.'
        Parameters  = @{ MemoryMappedFile = 'The map to release.' }
        Inputs      = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'The map, by value or by property name.')
        Outputs     = @('None', 'Nothing.')
        Examples    = @(
            @{ Code = 'Remove-MemoryMappedFile -MemoryMappedFile $map'; Remarks = 'Releases the map.' }
            @{ Code = '$map | Remove-MemoryMappedFile'; Remarks = 'The map from the pipeline.' }
        )
    }
    'Save-MemoryMappedFile' = @{
        Synopsis    = "Saves the memory-mapped file's content to a file."
        Description = 'Writes the content to Path atomically (a temporary file renamed into place): the file holds its old bytes or the whole content, never a part.'
        Parameters  = @{ MemoryMappedFile = 'The map.'; Path = 'The file to write.' }
        Inputs      = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'The map, by value; -Path by property name.')
        Outputs     = @('None', 'Nothing.')
        Examples    = @(
            @{ Code = 'Save-MemoryMappedFile -MemoryMappedFile $map -Path ./test.json'; Remarks = 'Saves the content to test.json.' }
        )
    }
    'Wait-MemoryMappedFile' = @{
        Synopsis    = 'Waits until a memory-mapped file (or any of several) holds a content newer than -After; returns its seq.'
        Description = 'Sleeps without using the CPU and wakes as soon as another process writes: use it instead of "press ENTER to continue". -After defaults to the current content''s seq. Given several maps (-MemoryMappedFile $a, $b), it returns when any of them changes, with an object that says which (MemoryMappedFile, Name, Index, Seq). Ctrl+C (or PowerShell.Stop() on the runspace) ends the wait at once, and so does a Dispose() or Remove-MemoryMappedFile of one of the maps in another runspace of the process, with an ObjectDisposedException that names the map. To react to changes without waiting at all, $map.GetWatcher() gives an object whose Changed event (Register-ObjectEvent) and WaitHandle a thread of the module raises at each new content. Not in the original module.'
        Parameters  = @{
            MemoryMappedFile = 'The map, or several maps: then the first that changes is returned.'
            After            = 'Wait for a seq greater than this (for each map, when several). Left out, the seq of the content when the command starts: a consumer that may open the map after the producer wrote should give -After 0 (any content) or the seq it last read.'
            TimeoutSeconds   = 'Give up after this many seconds with an error, 0 or more (0 only checks; default: wait without limit); a negative number or NaN is refused (TimeoutOutOfRange).'
        }
        Inputs      = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'The map, by value; -After by property name.')
        Outputs     = @('System.UInt64', 'The seq of the newer content, for one map; for several, a PSCustomObject of type name Mmf.MapChange with MemoryMappedFile, Name, Index (in the list given) and Seq. A timeout is a statement-terminating TimeoutException (ErrorId Timeout).')
        Examples    = @(
            @{ Code = '$seq = Wait-MemoryMappedFile -MemoryMappedFile $map -TimeoutSeconds 30'; Remarks = 'Waits up to 30 seconds for another process to write.' }
            @{ Code = '$map = Open-MemoryMappedFile -Name Test; $null = Wait-MemoryMappedFile $map -After 0; Read-MemoryMappedFile $map'; Remarks = 'A consumer that may start after the producer wrote: -After 0 returns at once if any content was written, and waits for the first one otherwise.' }
            @{ Code = '$c = Wait-MemoryMappedFile $config, $jobs; "$($c.Name) is at seq $($c.Seq)"'; Remarks = 'Waits for whichever of two maps changes first.' }
            @{ Code = '$w = $map.GetWatcher(); Register-ObjectEvent $w Changed -Action { "seq $($EventArgs.Seq)" | Out-Host }'; Remarks = 'Runs a script block at each new content, with no thread or loop of the script''s own; $w.WaitHandle can also be waited on with [Threading.WaitHandle]::WaitAny beside other handles.' }
        )
    }
    'Get-MemoryMappedFile' = @{
        Synopsis    = 'Lists the maps in /dev/shm.'
        Description = 'One object per map the user can see, with Name, Kind (mmf, raw or file), Capacity, Length, Seq, Mode, Owner, Transient, Holders, LockPid and Error. Maps whose holders all died are removed first. Not in the original module.'
        Parameters  = @{ Name = 'Only the maps whose name matches this wildcard pattern, or is this very name (so that a name with [ ] * ? is found as it is). Tab completion offers the names in /dev/shm.' }
        Inputs      = @('System.String', 'The pattern, by value or by property name.')
        Outputs     = @('Mmf.MapInfo', 'One PSCustomObject per map, of type name Mmf.MapInfo (its members are note properties); pipe it to Open-MemoryMappedFile for a map object. The default view shows Name, Kind, Capacity, Length, Seq, Holders and Mode.')
        Examples    = @(
            @{ Code = "Get-MemoryMappedFile | Where-Object Kind -eq 'mmf'"; Remarks = 'The mmf maps.' }
        )
    }
}
