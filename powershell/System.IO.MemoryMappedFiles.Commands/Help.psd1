# SPDX-License-Identifier: MIT
# The cmdlets' help text; the module makes it into the MAML that Get-Help
# reads, with the syntax and parameter facts taken from the cmdlets.
@{
    'New-MemoryMappedFile' = @{
        Synopsis    = 'Creates a named memory-mapped file, or maps a file.'
        Description = @'
With -Name and -Size, creates the map /dev/shm/NAME with room for SIZE bytes of content, rounded up to whole 4096-byte pages as .NET's views are. As .NET's named maps, it is not persisted: it disappears when the last process holding it removes it, exits or is killed. -CreateOrOpen opens it instead if it exists. It is readable and writable by its owner only.

With -Path, maps a file: an mmf map on disk, created by -FileMode CreateNew, Create, OpenOrCreate, Truncate or Append (with -Size), or an existing file's bytes (-FileMode Open). With -Name too, other processes open it by that name, through a small transient map /dev/shm/NAME that goes with the last process holding the file by that name. Create and Truncate refuse a map that processes hold.

With -FileStream, maps the file of an open FileStream (extended to -Size if shorter); -leaveOpen $false disposes the stream with the map.

Content written by Out-MemoryMappedFile is length-framed and published whole: readers in other processes see the old content or the new one, never a mix, and never NUL padding or a stale tail.

Positional arguments bind by type: "New-MemoryMappedFile Test 1024" names a map; "New-MemoryMappedFile ./data CreateNew Data 4096" maps a file (a path given by position needs a '/'). In the sets CreateFromFileSet4 and CreateFromFileSet5, -Name is given by name.
'@
        Parameters  = @{
            Name                    = "The map's name: 1-255 letters, digits, '.', '_' or '-' (not first '.' or '-'). With -Path or -FileStream, the name other processes open the file by."
            Size                    = 'The capacity in bytes (at least 1). With -Path, needed when the mode creates a map.'
            CreateOrOpen            = 'Open the map if it exists instead of failing.'
            MemoryMappedFileAccess  = 'ReadWrite (default), Read, CopyOnWrite, ReadExecute or ReadWriteExecute. Read and CopyOnWrite give a handle that cannot write (views of it are copies). The pages are never executable: the Execute values give the same access without it. Write is refused, as by .NET: a map must be readable.'
            MemoryMappedFileOptions = "None or DelayAllocatePages. Both are accepted: libmmf allocates a map's pages when they are first written, and reports a full store as an error, never a crash."
            HandleInheritability    = "Inheritable lets child processes (Start-Process, &) inherit the map's descriptor: the map then stays until they, too, have exited. None (default) does not."
            Path                    = 'The file to map.'
            FileMode                = 'CreateNew (fails if the file exists), Create (replaces it), Open (it must exist; an mmf map, or any file as raw bytes), OpenOrCreate, Truncate (it must exist; it becomes a new, empty map of -Size bytes) or Append (OpenOrCreate; Out-MemoryMappedFile then appends without -Append).'
            FileStream              = 'An open FileStream whose file is mapped.'
            leaveOpen               = '$false disposes the FileStream when the map is disposed; $true leaves it to the caller.'
        }
        Outputs     = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'An Mmf.MemoryMappedFile whose type names start with System.IO.MemoryMappedFiles.MemoryMappedFile, with Dispose(), SafeMemoryMappedFileHandle, CreateViewStream() and CreateViewAccessor(), and Name, Kind, Capacity, Length and Seq. Nothing on failure.')
        Notes       = 'Views are live in every process: a write through a view of a named map is published at once, whole (readers never see a mix), and writers of different bytes never undo each other. Views of raw objects and mapped plain files are the mapped bytes. A view keeps its map open. A file that -Path creates is an mmf map: a header, then the content.'
        Examples    = @(
            @{ Code = '$map = New-MemoryMappedFile -Name "Test" -Size 1024'; Remarks = 'Creates the map Test with room for 1024 bytes (4096, whole pages).' }
            @{ Code = '$map = New-MemoryMappedFile -Name "Test" -Size 1024 -MemoryMappedFileAccess ReadWriteExecute'; Remarks = 'The same, with the access the original example asks for.' }
            @{ Code = '$map = New-MemoryMappedFile -Path ./data.mmf -FileMode CreateNew -Name Data -Size 4096'; Remarks = 'Creates a map in the file data.mmf that other processes open as Data.' }
            @{ Code = "[pscustomobject]@{ Name = 'Test'; Size = 4096 } | New-MemoryMappedFile"; Remarks = 'Parameters from the properties of a piped object.' }
        )
    }
    'Open-MemoryMappedFile' = @{
        Synopsis    = 'Opens, by name, a memory-mapped file that another process made.'
        Description = @'
Opens /dev/shm/NAME. A map made by New-MemoryMappedFile, the mmf command or a C program is opened as an mmf map; an object of another program (Python's SharedMemory, say) as raw bytes; a name given by New-MemoryMappedFile -Path -Name opens that file. While this process holds it, a non-persisted map stays.
'@
        Parameters  = @{
            Name                   = "The map's name."
            MemoryMappedFileRights = 'Rights with Write (ReadWrite, FullControl, ...) open it for reading and writing; others (Read, ReadExecute, CopyOnWrite, ...) without write access. A map the caller may only read is opened without write access whatever is asked.'
            HandleInheritability   = "Inheritable lets child processes inherit the map's descriptor (the map stays while they run). None (default) does not."
        }
        Outputs     = @('System.IO.MemoryMappedFiles.MemoryMappedFile', 'An Mmf.MemoryMappedFile; nothing on failure.')
        Examples    = @(
            @{ Code = '$map = Open-MemoryMappedFile -Name "Test"'; Remarks = 'Opens the map Test.' }
            @{ Code = '$map = Open-MemoryMappedFile -Name "Test" -MemoryMappedFileRights FullControl -HandleInheritability Inheritable'; Remarks = 'Opens it for writing; children started later inherit it.' }
            @{ Code = "'Test' | Open-MemoryMappedFile"; Remarks = 'The name from the pipeline.' }
        )
    }
    'Out-MemoryMappedFile' = @{
        Synopsis    = 'Writes a string into the memory-mapped file, as its whole new content, or appends it.'
        Description = @'
The string is stored as UTF-8, length-framed: a later Read-MemoryMappedFile returns it exactly, and readers in other processes see the old content or the new one, never a mix. -Append adds a newline and the string (so does every write to a map made with -FileMode Append). A string larger than the capacity is refused and nothing changes. For a raw object or a mapped file, the bytes are written at its start.
'@
        Parameters  = @{
            MemoryMappedFile = 'The map, from New- or Open-MemoryMappedFile.'
            String           = 'The text (not empty); it can come from the pipeline.'
            Append           = 'Add a newline and the string to what is there.'
        }
        Examples    = @(
            @{ Code = 'Out-MemoryMappedFile -MemoryMappedFile $map -String "Hello"'; Remarks = 'Replaces the content with Hello.' }
            @{ Code = 'Get-Date | ConvertTo-Json | Out-MemoryMappedFile -MemoryMappedFile $map'; Remarks = 'A JSON document from the pipeline.' }
            @{ Code = '$map | Out-MemoryMappedFile -String "Process B says: Hello World!" -Append'; Remarks = 'Appends a line.' }
        )
    }
    'Read-MemoryMappedFile' = @{
        Synopsis    = "Reads the memory-mapped file's content as a string."
        Description = 'Returns the last published content, exactly as written (UTF-8): no NUL bytes to strip, no stale tail. For a raw object or a mapped file, all its bytes, less trailing NULs.'
        Parameters  = @{
            MemoryMappedFile = 'The map, from New- or Open-MemoryMappedFile.'
            Follow           = 'Not in the original module. Write the content, then every later content as it is published, as tail -f does: only the text appended since the last one written out when the new content extends it (Out-MemoryMappedFile -Append in any process), the whole content otherwise, with a warning. Ends at -TimeoutSeconds or Ctrl+C.'
            TimeoutSeconds   = 'With -Follow: stop after this many seconds (default: follow until Ctrl+C).'
        }
        Outputs     = @('System.String', 'The content; with -Follow, one string per new piece.')
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
        Examples    = @(
            @{ Code = 'Remove-MemoryMappedFile -MemoryMappedFile $map'; Remarks = 'Releases the map.' }
            @{ Code = '$map | Remove-MemoryMappedFile'; Remarks = 'The map from the pipeline.' }
        )
    }
    'Save-MemoryMappedFile' = @{
        Synopsis    = "Saves the memory-mapped file's content to a file."
        Description = 'Writes the content to Path atomically (a temporary file renamed into place): the file holds its old bytes or the whole content, never a part.'
        Parameters  = @{ MemoryMappedFile = 'The map.'; Path = 'The file to write.' }
        Examples    = @(
            @{ Code = 'Save-MemoryMappedFile -MemoryMappedFile $map -Path ./test.json'; Remarks = 'Saves the content to test.json.' }
        )
    }
    'Wait-MemoryMappedFile' = @{
        Synopsis    = 'Waits until the memory-mapped file holds a content newer than -After; returns its seq.'
        Description = 'Sleeps without using the CPU and wakes as soon as another process writes: use it instead of "press ENTER to continue". -After defaults to the current content''s seq. Not in the original module.'
        Parameters  = @{
            MemoryMappedFile = 'The map.'
            After            = 'Wait for a seq greater than this.'
            TimeoutSeconds   = 'Give up after this many seconds with an error (default: wait without limit).'
        }
        Outputs     = @('System.UInt64', 'The seq of the newer content.')
        Examples    = @(
            @{ Code = '$seq = Wait-MemoryMappedFile -MemoryMappedFile $map -TimeoutSeconds 30'; Remarks = 'Waits up to 30 seconds for another process to write.' }
        )
    }
    'Get-MemoryMappedFile' = @{
        Synopsis    = 'Lists the maps in /dev/shm.'
        Description = 'One object per map the user can see, with Name, Kind (mmf, raw or file), Capacity, Length, Seq, Mode, Owner, Transient, Holders, LockPid and Error. Maps whose holders all died are removed first. Not in the original module.'
        Parameters  = @{ Name = 'Only the maps whose name matches this wildcard pattern.' }
        Outputs     = @('Mmf.MapInfo', 'One object per map.')
        Examples    = @(
            @{ Code = "Get-MemoryMappedFile | Where-Object Kind -eq 'mmf'"; Remarks = 'The mmf maps.' }
        )
    }
}
