# SPDX-License-Identifier: MIT
# Pester tests of the module: one Describe per cmdlet, each parameter set,
# positional and pipeline binding, errors, -WhatIf, -Verbose, and the map
# object's members, and the module as issue 19 asked it to be ("issue 19
# item N" in a Describe's name).  Run by tests/powershell/run.sh, which sets
# PSModulePath (the build's module folder), MMF_WATCHER, MMF_TEST_MAP and BUILD.

BeforeAll {
    Import-Module System.IO.MemoryMappedFiles.Commands -Force
    $script:prefix = "$($env:MMF_TEST_MAP)-p"
    $script:count = 0
    # A fresh name for each use.
    function script:Fresh([string]$what = 'm') { $script:count++; "$script:prefix-$what-$script:count" }
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "$script:prefix-files"
    New-Item -ItemType Directory -Path $script:dir -Force | Out-Null
    Push-Location $script:dir
    # What another process sees: the mmf command reads the map.
    function script:CliRead([string]$name) { (& mmf read $name) -join "`n" }
    # Inodes: what a descriptor is open on (/proc shows a created map's
    # descriptor under the name it was made with, not the one it got).
    function script:Get-Inode([string]$path) { [ulong](& stat -L -c %i -- $path) }
    function script:Get-Inodes([int]$procId) {
        Get-ChildItem "/proc/$procId/fd" | ForEach-Object { [ulong](& stat -L -c %i -- $_.FullName 2>$null) }
    }
}

AfterAll {
    Pop-Location
    Remove-Item -Recurse -Force $script:dir -ErrorAction SilentlyContinue
    Get-ChildItem /dev/shm -Filter "$script:prefix-*" -ErrorAction SilentlyContinue | Remove-Item -Force
}

Describe 'the module' {
    It 'is the original module by name and GUID, at a higher version' {
        $m = Get-Module System.IO.MemoryMappedFiles.Commands
        $m.Guid | Should -Be '8515ea70-3c13-4fa9-ad9c-2d3325bf5c8f'
        $m.Version | Should -BeGreaterThan ([version]'1.1.1.0')
    }
    It 'satisfies -FullyQualifiedName and #Requires lines written for the original' {
        $spec = @{ ModuleName = 'System.IO.MemoryMappedFiles.Commands'; GUID = '8515ea70-3c13-4fa9-ad9c-2d3325bf5c8f'; ModuleVersion = '1.1.1.0' }
        { Import-Module -FullyQualifiedName $spec -ErrorAction Stop } | Should -Not -Throw
        $script = Join-Path $script:dir 'requires.ps1'
        Set-Content $script "#Requires -Modules @{ ModuleName = 'System.IO.MemoryMappedFiles.Commands'; GUID = '8515ea70-3c13-4fa9-ad9c-2d3325bf5c8f'; ModuleVersion = '1.1.1.0' }`n'ran'"
        & $script | Should -Be 'ran'
    }
    It 'exports the six cmdlets of the original and two more' {
        $names = (Get-Command -Module System.IO.MemoryMappedFiles.Commands).Name | Sort-Object
        $names | Should -Be @('Get-MemoryMappedFile', 'New-MemoryMappedFile', 'Open-MemoryMappedFile', 'Out-MemoryMappedFile',
            'Read-MemoryMappedFile', 'Remove-MemoryMappedFile', 'Save-MemoryMappedFile', 'Wait-MemoryMappedFile')
    }
    It 'shows -WhatIf and -Confirm in the syntax and parameters of the cmdlets that take them' {
        foreach ($c in Get-Command -Module System.IO.MemoryMappedFiles.Commands) {
            $h = Get-Help $c.Name -Full
            $has = $c.Parameters.ContainsKey('WhatIf')
            $syntax = ($h.syntax | Out-String)
            foreach ($p in 'WhatIf', 'Confirm') {
                ($syntax -match "-$p\b") | Should -Be $has -Because "$($c.Name) -$p in the syntax"
                ($h.parameters.parameter.name -contains $p) | Should -Be $has -Because "$($c.Name) -$p in the parameters"
            }
        }
    }
    It 'has help for every cmdlet, parameter and example' {
        foreach ($c in Get-Command -Module System.IO.MemoryMappedFiles.Commands) {
            $h = Get-Help $c.Name -Full
            $h.Synopsis | Should -Not -BeNullOrEmpty -Because $c.Name
            $h.examples.example.Count | Should -BeGreaterThan 0 -Because $c.Name
            foreach ($p in $h.parameters.parameter) {
                ($p.description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "$($c.Name) -$($p.name)"
            }
        }
    }
    It 'declares the public structs as mmf.h does, field by field' {
        $lines = & (Join-Path $env:BUILD 'tests/layout')
        $lines.Count | Should -BeGreaterThan 20
        foreach ($l in $lines) {
            $struct, $field, $offset, $size = $l -split ' '
            $type = @{ mmf_stat = [Mmf.Stat]; mmf_info = [Mmf.Info]; mmf_read_view = [Mmf.ReadView] }[$struct]
            if ($field -eq 'priv_') { $field = 'priv_0' }
            if ($field -eq 'sizeof') {
                $sizeOf = [Runtime.InteropServices.Marshal].GetMethod('SizeOf', [Type[]]@([Type]))
                $sizeOf.Invoke($null, @($type)) | Should -Be ([int]$offset) -Because "sizeof $struct"
            } else {
                [int][Runtime.InteropServices.Marshal]::OffsetOf($type, $field) | Should -Be ([int]$offset) -Because "$struct.$field"
            }
        }
    }
    It 'loads a library without initial-exec TLS (dlopen from any process)' {
        $lib = Join-Path $env:BUILD 'libmmf.so.1'
        (& readelf -d $lib) -join "`n" | Should -Not -Match 'STATIC_TLS'
    }
}

Describe 'New-MemoryMappedFile' {
    Context 'Default' {
        It 'creates a map by name and size, named and by position' {
            $n = Fresh
            $m = New-MemoryMappedFile -Name $n -Size 1024
            $m.Capacity | Should -Be 4096
            $m.Kind | Should -Be 'mmf'
            $m.PSObject.TypeNames[0] | Should -Be 'System.IO.MemoryMappedFiles.MemoryMappedFile'
            "/dev/shm/$n" | Should -Exist
            $m.Dispose()
            "/dev/shm/$n" | Should -Not -Exist
            $p = New-MemoryMappedFile (Fresh) 10
            $p.Capacity | Should -Be 4096
            $p.Dispose()
        }
        It 'takes the aliases mapName and capacity' {
            $m = New-MemoryMappedFile -mapName (Fresh) -capacity 5000
            $m.Capacity | Should -Be 8192
            $m.Dispose()
        }
        It 'binds from the pipeline by property name and by value' {
            $n = Fresh
            $m = [pscustomobject]@{ Name = $n; Size = 4096 } | New-MemoryMappedFile
            $m.Name | Should -Be $n
            $m.Dispose()
            $m = [pscustomobject]@{ mapName = (Fresh); capacity = 100 } | New-MemoryMappedFile
            $m.Capacity | Should -Be 4096
            $m.Dispose()
            $n = Fresh
            $m = $n | New-MemoryMappedFile -Size 100
            $m.Name | Should -Be $n
            $m.Dispose()
        }
        It 'fails on an existing name with ResourceExists and returns nothing; -CreateOrOpen opens it' {
            $n = Fresh
            $a = New-MemoryMappedFile $n 100
            $b = New-MemoryMappedFile $n 100 -ErrorAction SilentlyContinue -ErrorVariable err
            $b | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            "$($err[0])" | Should -Match 'add -CreateOrOpen'
            $c = New-MemoryMappedFile $n 100 -CreateOrOpen
            Out-MemoryMappedFile $a 'shared'
            Read-MemoryMappedFile $c | Should -Be 'shared'
            $c2 = New-MemoryMappedFile $n 100 $true
            Read-MemoryMappedFile $c2 | Should -Be 'shared'
            $a, $c, $c2 | Remove-MemoryMappedFile
        }
        It 'stops with -ErrorAction Stop' {
            { New-MemoryMappedFile -Name '..' -Size 10 -ErrorAction Stop } | Should -Throw '*not a valid map name*'
        }
        It 'refuses a size below 1 and a name with /' {
            { New-MemoryMappedFile -Name (Fresh) -Size 0 } | Should -Throw
            { New-MemoryMappedFile -Name 'a/b' -Size 10 } | Should -Throw '*-Path*'
        }
        It 'creates nothing with -WhatIf' {
            $n = Fresh
            New-MemoryMappedFile $n 10 -WhatIf | Should -BeNullOrEmpty
            "/dev/shm/$n" | Should -Not -Exist
        }
        It 'says what it did with -Verbose' {
            $out = New-MemoryMappedFile (Fresh) 10 -Verbose 4>&1
            ($out | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join ' ' | Should -Match 'created /dev/shm/'
            ($out | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] }).Dispose()
        }
    }
    Context 'MemoryMappedFileAccessSet' {
        It 'accepts the original help example ReadWriteExecute, by name and by position' {
            $m = New-MemoryMappedFile -Name (Fresh) -Size 1024 -MemoryMappedFileAccess ReadWriteExecute
            Out-MemoryMappedFile $m 'x'
            Read-MemoryMappedFile $m | Should -Be 'x'
            $m.Dispose()
            $m = New-MemoryMappedFile (Fresh) 1024 ReadWrite
            $m.Access | Should -Be 'ReadWrite'
            $m.Dispose()
            $m = New-MemoryMappedFile (Fresh) 1024 -access ReadWrite -CreateOrOpen
            $m.Dispose()
        }
        It 'gives a handle without write access for Read' {
            $m = New-MemoryMappedFile (Fresh) 1024 Read
            $m.ReadOnly | Should -BeTrue
            Out-MemoryMappedFile $m 'x' -ErrorAction SilentlyContinue -ErrorVariable err
            $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            $m.Dispose()
        }
        It 'refuses Write as .NET does, creating nothing' {
            $n = Fresh
            $m = New-MemoryMappedFile $n 1024 Write -ErrorAction SilentlyContinue -ErrorVariable err
            $m | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            "/dev/shm/$n" | Should -Not -Exist
        }
    }
    Context 'MemoryMappedFileOptionSet' {
        It 'binds all five by position and by alias' {
            $m = New-MemoryMappedFile (Fresh) 1024 ReadWrite None None
            $m.Capacity | Should -Be 4096
            $m.Dispose()
            $m = New-MemoryMappedFile -Name (Fresh) -Size 1 -access ReadWrite -options DelayAllocatePages -inheritability None -CreateOrOpen
            $m.Dispose()
        }
        It 'lets a child process inherit the map with Inheritable, and not with None' {
            $n = Fresh
            $m = New-MemoryMappedFile $n 1024 ReadWrite None Inheritable
            $m.Inheritability | Should -Be 'Inheritable'
            $child = Start-Process -FilePath sleep -ArgumentList 30 -PassThru
            try {
                Start-Sleep -Milliseconds 200
                $inode = Get-Inode "/dev/shm/$n"
                Get-Inodes $child.Id | Should -Contain $inode
                # The child holds the object's memory, not the map's life: a
                # descriptor inherited without mmf never keeps a writer or a
                # name alive (libmmf 1.1), so the name goes with the last
                # handle while the child still has the object open.
                $m.Dispose()
                $deadline = (Get-Date).AddSeconds(2)
                while ((Test-Path "/dev/shm/$n") -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 20 }
                "/dev/shm/$n" | Should -Not -Exist -Because 'its last handle is gone'
                Get-Inodes $child.Id | Should -Contain $inode
            } finally {
                $child.Kill(); $child.WaitForExit()
            }

            $n2 = Fresh
            $m2 = New-MemoryMappedFile $n2 1024 ReadWrite None None
            $child = Start-Process -FilePath sleep -ArgumentList 30 -PassThru
            try {
                Start-Sleep -Milliseconds 200
                Get-Inodes $child.Id | Should -Not -Contain (Get-Inode "/dev/shm/$n2")
            } finally { $child.Kill(); $child.WaitForExit(); $m2.Dispose() }
        }
    }
    Context 'CreateFromFileSet and FileModeSet' {
        It 'maps an existing file by -Path alone, and by path and mode' {
            [IO.File]::WriteAllText("$script:dir/plain.txt", 'plain bytes')
            $m = New-MemoryMappedFile -Path ./plain.txt
            $m.Kind | Should -Be 'file'
            Read-MemoryMappedFile $m | Should -Be 'plain bytes'
            $m.Dispose()
            $m = New-MemoryMappedFile ./plain.txt Open
            Read-MemoryMappedFile $m | Should -Be 'plain bytes'
            $m.Dispose()
            $m = New-MemoryMappedFile -Path ./plain.txt -mode Open
            $m.Dispose()
        }
        It 'says ObjectNotFound for a missing file with Open' {
            $m = New-MemoryMappedFile ./missing Open -ErrorAction SilentlyContinue -ErrorVariable err
            $m | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
        It 'asks for -Size where the mode creates a map' {
            New-MemoryMappedFile ./new.mmf CreateNew -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            "$($err[0])" | Should -Match 'give its capacity with -Size'
            './new.mmf' | Should -Not -Exist
        }
    }
    Context 'CreateFromFileSet3, 4 and 5' {
        It 'binds path, mode, name and size by position and makes the name openable by another process' {
            $n = Fresh
            $m = New-MemoryMappedFile ./data.mmf CreateNew $n 4096
            $m.Kind | Should -Be 'mmf'
            $m.Name | Should -Be $n
            Out-MemoryMappedFile $m 'via the name'
            $other = & pwsh -NoProfile -Command "Import-Module System.IO.MemoryMappedFiles.Commands; Read-MemoryMappedFile (Open-MemoryMappedFile -Name $n)"
            $other | Should -Be 'via the name'
            $m.Dispose()
            "/dev/shm/$n" | Should -Not -Exist -Because 'the name goes with the map'
            './data.mmf' | Should -Exist -Because 'the file stays'
        }
        It 'maps read-only with access Read in the fifth set' {
            $m = New-MemoryMappedFile ./data5.mmf CreateNew (Fresh) 4096 Read
            $m.ReadOnly | Should -BeTrue
            $m.Dispose()
            $m = New-MemoryMappedFile -Path ./data5.mmf -FileMode Open -Name (Fresh) -Size 4096 -MemoryMappedFileAccess ReadWrite
            $m.ReadOnly | Should -BeFalse
            $m.Dispose()
        }
        It 'refuses a name that is taken, and an invalid one, leaving nothing behind' {
            $taken = New-MemoryMappedFile (Fresh) 10
            $m = New-MemoryMappedFile ./d3.mmf CreateNew $taken.Name 4096 -ErrorAction SilentlyContinue -ErrorVariable err
            $m | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $taken.Dispose()
        }
        # The original's sets give -Size with a path only together with -Name.
        It 'follows the FileMode meanings: Create, CreateNew, OpenOrCreate, Truncate, Append' {
            $a = New-MemoryMappedFile -Path ./modes.mmf -FileMode CreateNew -Name (Fresh) -Size 4096
            Out-MemoryMappedFile $a 'first'
            $a.Dispose()
            New-MemoryMappedFile -Path ./modes.mmf -FileMode CreateNew -Name (Fresh) -Size 4096 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $b = New-MemoryMappedFile -Path ./modes.mmf -FileMode OpenOrCreate -Name (Fresh) -Size 4096
            Read-MemoryMappedFile $b | Should -Be 'first'
            $b.Dispose()
            $c = New-MemoryMappedFile -Path ./modes.mmf -FileMode Create -Name (Fresh) -Size 4096
            Read-MemoryMappedFile $c | Should -Be ''
            Out-MemoryMappedFile $c 'second'
            $c.Dispose()
            $d = New-MemoryMappedFile -Path ./modes.mmf -FileMode Append -Name (Fresh) -Size 4096
            Out-MemoryMappedFile $d 'third'
            Read-MemoryMappedFile $d | Should -Be "second`r`nthird"
            $d.Dispose()
            $e = New-MemoryMappedFile -Path ./modes.mmf -FileMode Truncate -Name (Fresh) -Size 4096
            Read-MemoryMappedFile $e | Should -Be ''
            $e.Dispose()
            New-MemoryMappedFile -Path ./absent.mmf -FileMode Truncate -Name (Fresh) -Size 4096 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
            $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $f = New-MemoryMappedFile -Path ./fresh.mmf -FileMode OpenOrCreate -Name (Fresh) -Size 100
            $f.Kind | Should -Be 'mmf'
            $f.Dispose()
        }
    }
    Context 'FileStreamSet' {
        It 'maps the stream''s file, extends it, and disposes the stream with leaveOpen $false' {
            $fs = [IO.File]::Open((Join-Path $script:dir 'stream.bin'), 'OpenOrCreate', 'ReadWrite')
            $n = Fresh
            $m = New-MemoryMappedFile $fs $n 4096 ReadWrite None $false
            $m.Kind | Should -Be 'file'
            $fs.Length | Should -Be 4096
            Out-MemoryMappedFile $m 'into the stream'
            $o = Open-MemoryMappedFile $n
            Read-MemoryMappedFile $o | Should -Be 'into the stream'
            $o.Dispose()
            $m.Dispose()
            $fs.CanRead | Should -BeFalse
        }
        It 'leaves the stream open with leaveOpen $true' {
            $fs = [IO.File]::Open((Join-Path $script:dir 'stream2.bin'), 'OpenOrCreate', 'ReadWrite')
            $m = New-MemoryMappedFile -FileStream $fs -Name (Fresh) -Size 100 -MemoryMappedFileAccess ReadWrite -HandleInheritability None -leaveOpen $true
            $m.Dispose()
            $fs.CanRead | Should -BeTrue
            $fs.Dispose()
        }
    }
}

Describe 'New-MemoryMappedFile, as a review tried it' {
    It 'refuses -FileMode Create and Truncate on a map that a process holds' {
        $a = New-MemoryMappedFile ./held.mmf CreateNew (Fresh) 4096
        Out-MemoryMappedFile $a 'kept'
        New-MemoryMappedFile -Path ./held.mmf -FileMode Create -Name (Fresh) -Size 4096 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        "$($err[0])" | Should -Match 'in use'
        New-MemoryMappedFile -Path ./held.mmf -FileMode Truncate -Name (Fresh) -Size 4096 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Read-MemoryMappedFile $a | Should -Be 'kept'
        $a.Dispose()
    }
    It 'takes no file when the name is taken, and says so' {
        $taken = New-MemoryMappedFile (Fresh) 10
        New-MemoryMappedFile ./untaken.mmf CreateNew $taken.Name 4096 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        "$($err[0])" | Should -Match 'name is taken'
        './untaken.mmf' | Should -Not -Exist
        $taken.Dispose()
    }
    It 'gives up the name of a -Path map when its process is killed' {
        $n = Fresh 'named'
        $pidFile = Join-Path $script:dir 'holder.pid'
        $p = Start-Process -FilePath pwsh -PassThru -ArgumentList '-NoProfile', '-Command', "Import-Module System.IO.MemoryMappedFiles.Commands; `$m = New-MemoryMappedFile '$script:dir/killed.mmf' CreateNew $n 4096; Set-Content '$pidFile' `$PID; Start-Sleep 60"
        $deadline = (Get-Date).AddSeconds(30)
        while (-not (Test-Path $pidFile) -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
        "/dev/shm/$n" | Should -Exist
        $o = Open-MemoryMappedFile $n
        $o.Path | Should -Be "$script:dir/killed.mmf"
        $o.Dispose()   # an opener holds the name too, as with .NET
        Stop-Process -Id ([int](Get-Content $pidFile)) -Force
        $p.WaitForExit(10000)
        $deadline = (Get-Date).AddSeconds(2)
        while ((Test-Path "/dev/shm/$n") -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 20 }
        "/dev/shm/$n" | Should -Not -Exist
        "$script:dir/killed.mmf" | Should -Exist -Because 'the file stays'
    }
    It 'takes Global\ and Local\ names as plain names' {
        $n = Fresh
        $m = New-MemoryMappedFile "Global\$n" 10
        $m.Name | Should -Be $n
        (Open-MemoryMappedFile "Local\$n").Name | Should -Be $n
        $m.Dispose()
    }
    It 'resolves ~ in paths, and says "no such file" for a missing one' {
        $f = "mmftest-home-$PID.mmf"
        $m = New-MemoryMappedFile -Path "~/$f" -FileMode CreateNew -Name (Fresh) -Size 100
        $m.Path | Should -Be (Join-Path $HOME $f)
        $m.Dispose()
        Remove-Item (Join-Path $HOME $f)
        New-MemoryMappedFile ./absent.bin Open -ErrorAction SilentlyContinue -ErrorVariable err
        "$($err[0])" | Should -Match 'no such file'
    }
    It 'refuses a -Size beyond a file that a read-only stream cannot extend' {
        [IO.File]::WriteAllText("$script:dir/ten.bin", '0123456789')
        $fs = [IO.File]::Open("$script:dir/ten.bin", 'Open', 'Read')
        New-MemoryMappedFile $fs (Fresh) 100 Read None $true -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $fs.Dispose()
    }
}

Describe 'Open-MemoryMappedFile' {
    BeforeAll {
        $script:n = Fresh 'open'
        $script:map = New-MemoryMappedFile $script:n 4096
        Out-MemoryMappedFile $script:map 'opened'
    }
    AfterAll { $script:map.Dispose() }
    It 'opens by name, by position and by alias' {
        (Open-MemoryMappedFile -Name $script:n | Read-MemoryMappedFile) | Should -Be 'opened'
        (Open-MemoryMappedFile $script:n | Read-MemoryMappedFile) | Should -Be 'opened'
        (Open-MemoryMappedFile -mapName $script:n | Read-MemoryMappedFile) | Should -Be 'opened'
    }
    It 'binds the name from the pipeline by value and by property name' {
        ($script:n | Open-MemoryMappedFile | Read-MemoryMappedFile) | Should -Be 'opened'
        ([pscustomobject]@{ Name = $script:n } | Open-MemoryMappedFile | Read-MemoryMappedFile) | Should -Be 'opened'
    }
    It 'opens without write access for Read rights, with it for FullControl, and inheritable on request' {
        $r = Open-MemoryMappedFile $script:n Read
        $r.ReadOnly | Should -BeTrue
        $w = Open-MemoryMappedFile -Name $script:n -MemoryMappedFileRights FullControl -HandleInheritability Inheritable
        $w.ReadOnly | Should -BeFalse
        $w.Inheritability | Should -Be 'Inheritable'
        $w2 = Open-MemoryMappedFile $script:n ReadWrite None
        $w2.ReadOnly | Should -BeFalse
        $c = Open-MemoryMappedFile -Name $script:n -desiredAccessRights CopyOnWrite
        $c.Access | Should -Be 'CopyOnWrite'
        $r, $w, $w2, $c | Remove-MemoryMappedFile
    }
    It 'says ObjectNotFound and returns nothing for a missing map' {
        $m = Open-MemoryMappedFile "$($script:n)-missing" -ErrorAction SilentlyContinue -ErrorVariable err
        $m | Should -BeNullOrEmpty
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        "$($err[0])" | Should -Match 'no such map'
    }
    It 'opens another program''s object as raw bytes' {
        $n = Fresh 'raw'
        [IO.File]::WriteAllBytes("/dev/shm/$n", [Text.Encoding]::UTF8.GetBytes("raw`0`0`0"))
        $m = Open-MemoryMappedFile $n
        $m.Kind | Should -Be 'raw'
        Read-MemoryMappedFile $m | Should -Be 'raw'
        $m.Dispose()
        Remove-Item "/dev/shm/$n"
    }
}

Describe 'Out-MemoryMappedFile' {
    BeforeEach {
        $script:m = New-MemoryMappedFile (Fresh 'out') 100
    }
    AfterEach { $script:m.Dispose() }
    It 'writes by name, by position and with the alias value' {
        Out-MemoryMappedFile -MemoryMappedFile $script:m -String 'named'
        CliRead $script:m.Name | Should -Be 'named'
        Out-MemoryMappedFile $script:m 'positional'
        CliRead $script:m.Name | Should -Be 'positional'
        Out-MemoryMappedFile $script:m -value 'alias'
        CliRead $script:m.Name | Should -Be 'alias'
    }
    It 'binds the string or the map from the pipeline by value, and both by property name' {
        'piped' | Out-MemoryMappedFile -MemoryMappedFile $script:m
        CliRead $script:m.Name | Should -Be 'piped'
        $script:m | Out-MemoryMappedFile -String 'map piped'
        CliRead $script:m.Name | Should -Be 'map piped'
        [pscustomobject]@{ MemoryMappedFile = $script:m; String = 'by property' } | Out-MemoryMappedFile
        CliRead $script:m.Name | Should -Be 'by property'
    }
    It 'appends a line with -Append, by name and by position' {
        Out-MemoryMappedFile $script:m 'A'
        Out-MemoryMappedFile $script:m 'B' -Append
        Out-MemoryMappedFile $script:m 'C' $true
        Read-MemoryMappedFile $script:m | Should -Be "A`r`nB`r`nC"
    }
    It 'takes an empty string (a content of 0 bytes), as .NET writes 0 bytes' {
        { Out-MemoryMappedFile $script:m '' } | Should -Not -Throw
        Read-MemoryMappedFile $script:m | Should -Be ''
        Out-MemoryMappedFile $script:m 'A'
    }
    It 'refuses a string beyond the capacity with LimitsExceeded, changing nothing' {
        Out-MemoryMappedFile $script:m 'kept'
        Out-MemoryMappedFile $script:m ('x' * 5000) -ErrorAction SilentlyContinue -ErrorVariable err
        $err[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        "$($err[0])" | Should -Match '5000 bytes do not fit the 4096-byte capacity; nothing was written'
        CliRead $script:m.Name | Should -Be 'kept'
    }
    It 'writes nothing with -WhatIf and says what it did with -Verbose' {
        Out-MemoryMappedFile $script:m 'before'
        Out-MemoryMappedFile $script:m 'after' -WhatIf
        CliRead $script:m.Name | Should -Be 'before'
        $v = Out-MemoryMappedFile $script:m 'after' -Verbose 4>&1
        "$v" | Should -Match 'wrote 5 bytes'
    }
    It 'says the map was removed when it was' {
        $gone = New-MemoryMappedFile (Fresh) 10
        $gone.Dispose()
        Out-MemoryMappedFile $gone 'x' -ErrorAction SilentlyContinue -ErrorVariable err
        "$($err[0])" | Should -Match 'already removed'
    }
}

Describe 'Read-MemoryMappedFile' {
    BeforeAll {
        $script:r = New-MemoryMappedFile (Fresh 'read') 100
        Out-MemoryMappedFile $script:r "with`0nul"
    }
    AfterAll { $script:r.Dispose() }
    It 'reads by name, by position, by value and by property name, exactly' {
        Read-MemoryMappedFile -MemoryMappedFile $script:r | Should -Be "with`0nul"
        Read-MemoryMappedFile $script:r | Should -Be "with`0nul"
        $script:r | Read-MemoryMappedFile | Should -Be "with`0nul"
        [pscustomobject]@{ MemoryMappedFile = $script:r } | Read-MemoryMappedFile | Should -Be "with`0nul"
    }
    It 'reads under -WhatIf and $WhatIfPreference (a read changes nothing) and says what it read with -Verbose' {
        Read-MemoryMappedFile $script:r -WhatIf | Should -Be "with`0nul"
        $WhatIfPreference = $true
        try { Read-MemoryMappedFile $script:r | Should -Be "with`0nul" } finally { $WhatIfPreference = $false }
        $v = Read-MemoryMappedFile $script:r -Verbose 4>&1
        ($v | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message -join ' ' | Should -Match 'read 8 bytes'
    }
}

Describe 'Read-MemoryMappedFile -Follow' {
    It 'writes the content, then only what others append, and a replaced content whole' {
        $m = New-MemoryMappedFile (Fresh 'follow') 4096
        Out-MemoryMappedFile $m 'first'
        $job = Start-ThreadJob -ArgumentList $m -ScriptBlock {
            param($m)
            Read-MemoryMappedFile $m -Follow -TimeoutSeconds 4 3>&1 | ForEach-Object { "$_" }
        }
        Start-Sleep -Milliseconds 700
        foreach ($i in 1..20) { & mmf write $m.Name --append "line $i" }
        Start-Sleep -Milliseconds 500
        Out-MemoryMappedFile $m 'replaced'
        Start-Sleep -Milliseconds 500
        Out-MemoryMappedFile $m 'after' -Append
        $out = $job | Wait-Job -Timeout 30 | Receive-Job
        $pieces = @($out | Where-Object { $_ -notmatch 'was replaced' })
        # One item per piece appended (the mmf command appends after LF),
        # however close together they came, without the separator.
        $pieces | Should -Be (@('first') + (1..20 | ForEach-Object { "line $_" }) + @('replaced', 'after'))
        @($out | Where-Object { $_ -match 'was replaced' }).Count | Should -Be 1
        $m.Dispose()
    }
}

Describe 'Read-MemoryMappedFile -Follow, pieces' {
    It 'gives one item per piece appended in one go, split on -Separator <Sep>' -ForEach @(
        @{ Sep = $null; Give = "`r`n" }
        @{ Sep = ','; Give = ',' }
    ) {
        $m = New-MemoryMappedFile (Fresh 'pieces') 4096
        Out-MemoryMappedFile $m 'first'
        $args2 = @{ Follow = $true; TimeoutSeconds = 3 }
        if ($Sep) { $args2.Separator = $Sep }
        $job = Start-ThreadJob -ArgumentList $m, $args2 -ScriptBlock { param($m, $a) Read-MemoryMappedFile $m @a }
        Start-Sleep -Milliseconds 800
        # Three appends in one content: one publication the follower sees.
        Out-MemoryMappedFile $m ("second" + $Give + "third" + $Give + "fourth") -Append -Separator $Give
        $out = $job | Wait-Job -Timeout 20 | Receive-Job
        $out | Should -Be @('first', 'second', 'third', 'fourth')
        $m.Dispose()
    }
}

Describe 'Remove-MemoryMappedFile' {
    It 'releases the handle; the map goes with its last holder' {
        $n = Fresh
        $a = New-MemoryMappedFile $n 10
        $b = Open-MemoryMappedFile $n
        Remove-MemoryMappedFile -MemoryMappedFile $a
        "/dev/shm/$n" | Should -Exist
        $b | Remove-MemoryMappedFile
        "/dev/shm/$n" | Should -Not -Exist
        Read-MemoryMappedFile $b -ErrorAction SilentlyContinue -ErrorVariable err
        "$($err[0])" | Should -Match 'already removed'
    }
    It 'keeps the map with -WhatIf; binds by position and property name' {
        $n = Fresh
        $a = New-MemoryMappedFile $n 10
        Remove-MemoryMappedFile $a -WhatIf
        Read-MemoryMappedFile $a | Should -Be ''
        [pscustomobject]@{ MemoryMappedFile = $a } | Remove-MemoryMappedFile
        "/dev/shm/$n" | Should -Not -Exist
        Remove-MemoryMappedFile $a   # twice is harmless
    }
}

Describe 'Save-MemoryMappedFile' {
    BeforeAll {
        $script:s = New-MemoryMappedFile (Fresh 'save') 100
        Out-MemoryMappedFile $script:s '{"saved":true}'
    }
    AfterAll { $script:s.Dispose() }
    It 'saves by name, by position and by property name' {
        Save-MemoryMappedFile -MemoryMappedFile $script:s -Path ./saved1.json
        Get-Content -Raw ./saved1.json | Should -Be '{"saved":true}'
        Save-MemoryMappedFile $script:s ./saved2.json
        Get-Content -Raw ./saved2.json | Should -Be '{"saved":true}'
        [pscustomobject]@{ MemoryMappedFile = $script:s; Path = './saved3.json' } | Save-MemoryMappedFile
        Get-Content -Raw ./saved3.json | Should -Be '{"saved":true}'
    }
    It 'writes nothing with -WhatIf; a bad path is an error that changes nothing' {
        Save-MemoryMappedFile $script:s ./whatif.json -WhatIf
        './whatif.json' | Should -Not -Exist
        Save-MemoryMappedFile $script:s ./no/such/dir/x.json -ErrorAction SilentlyContinue -ErrorVariable err
        "$($err[0])" | Should -Match 'the file was not changed'
    }
}

Describe 'the map object' {
    BeforeEach {
        $script:o = New-MemoryMappedFile (Fresh 'obj') 100
        Out-MemoryMappedFile $script:o 'content'
    }
    AfterEach { $script:o.Dispose() }
    It 'has a SafeMemoryMappedFileHandle that is the map''s descriptor' {
        $h = $script:o.SafeMemoryMappedFileHandle
        $h | Should -BeOfType Microsoft.Win32.SafeHandles.SafeMemoryMappedFileHandle
        $h.IsInvalid | Should -BeFalse
        Get-Inode "/proc/$PID/fd/$($h.DangerousGetHandle())" | Should -Be (Get-Inode "/dev/shm/$($script:o.Name)")
    }
    It 'has views: CreateViewStream as long as the capacity, reading zeros past the content, published on Flush' {
        $s = $script:o.CreateViewStream()
        $s.Length | Should -Be 4096
        ([IO.StreamReader]::new($s).ReadToEnd()).TrimEnd([char]0) | Should -Be 'content'
        $s.Position = 0
        $bytes = [Text.Encoding]::UTF8.GetBytes('CONTENT')
        $s.Write($bytes, 0, $bytes.Length)
        CliRead $script:o.Name | Should -Be 'content' -Because 'other processes see a view''s writes on Flush()'
        $s.Flush()
        CliRead $script:o.Name | Should -Be 'CONTENT' -Because 'Flush() publishes the view''s writes'
        $s.Position = 4000
        [IO.BinaryReader]::new($s).ReadInt32() | Should -Be 0
        $s.Dispose()
    }
    It 'refuses to write past the view at the write, keeping what fits nowhere half-written' {
        $s = $script:o.CreateViewStream(4090, 0)
        $s.Length | Should -Be 6
        { $s.Write([byte[]]::new(10), 0, 10) } | Should -Throw '*capacity*'
        CliRead $script:o.Name | Should -Be 'content'
        $s.Dispose()
    }
    It 'shows every view each flushed write (after that view''s Flush()); writers of different bytes keep theirs' {
        $a = $script:o.CreateViewAccessor()
        $b = (Open-MemoryMappedFile $script:o.Name).CreateViewAccessor()
        foreach ($i in 1..5) {
            $a.Write(0, [int]$i)
            $a.ReadInt32(0) | Should -Be $i -Because 'a view sees its own writes at once'
            $a.Flush()
            if ($i -gt 1) { $b.ReadInt32(0) | Should -Be ($i - 1) -Because 'a view reads one content until its Flush()' }
            $b.Flush()
            $b.ReadInt32(0) | Should -Be $i
        }
        $b.Write(64, [int]777)
        $a.Write(0, [int]6)
        $b.Flush(); $a.Flush()
        $a.ReadInt32(64) | Should -Be 777
        $b.ReadInt32(0) | Should -Be 6
        $a.Dispose(); $b.Dispose()
    }
    It 'keeps a view working after its map is disposed' {
        $m = New-MemoryMappedFile (Fresh) 100
        $s = $m.CreateViewStream()
        $m.Dispose()
        $s.WriteByte(90)
        $s.Flush()
        $o = Open-MemoryMappedFile $m.Name
        Read-MemoryMappedFile $o | Should -Be 'Z'
        $s.Dispose()
        $o.Dispose()
    }
    It 'never publishes a CopyOnWrite view, and refuses writes to a Read view' {
        $s = $script:o.CreateViewStream(0, 0, 'CopyOnWrite')
        $s.WriteByte(65)
        $s.Dispose()
        CliRead $script:o.Name | Should -Be 'content'
        $r = $script:o.CreateViewStream(0, 0, 'Read')
        { $r.WriteByte(65) } | Should -Throw
        $r.Dispose()
    }
    It 'has CreateViewAccessor over the content' {
        $a = $script:o.CreateViewAccessor()
        $a.Capacity | Should -Be 4096
        $a.ReadByte(0) | Should -Be ([byte][char]'c')
        $a.Write(0, [byte][char]'C')
        $a.Dispose()
        CliRead $script:o.Name | Should -Be 'Content' -Because 'Dispose() publishes'
        $a.Dispose()
    }
    It 'views a file''s bytes in place' {
        [IO.File]::WriteAllText("$script:dir/bytes.bin", ('.' * 64))
        $m = New-MemoryMappedFile ./bytes.bin Open
        $a = $m.CreateViewAccessor(0, 64)
        $a.Write(0, [byte][char]'X')
        [IO.File]::ReadAllText("$script:dir/bytes.bin")[0] | Should -Be 'X'
        $m.Dispose()
        $a.ReadByte(0) | Should -Be ([byte][char]'X') -Because 'a view keeps its map'
        $a.Dispose()
    }
    It 'survives Dispose in one thread while another thread uses the map' {
        # A review's reproduction: pwsh died of SIGSEGV here.
        $m = New-MemoryMappedFile (Fresh) (300MB)
        $job = Start-ThreadJob -ArgumentList $m -ScriptBlock {
            param($m)
            $big = 'abcdefghij' * (25MB)
            $errors = 0
            for ($i = 0; $i -lt 4; $i++) {
                Out-MemoryMappedFile $m $big -ErrorAction SilentlyContinue -ErrorVariable e
                [void](Read-MemoryMappedFile $m -ErrorAction SilentlyContinue -ErrorVariable e2)
                if ($e -or $e2) { $errors++ }
            }
            "done $errors"
        }
        Start-Sleep -Milliseconds 1500
        $m.Dispose()
        $out = $job | Wait-Job -Timeout 60 | Receive-Job
        $out | Should -Match '^done'
        "/dev/shm/$($m.Name)" | Should -Not -Exist
    }
    It 'refuses a write view of a map opened for reading' {
        $r = Open-MemoryMappedFile $script:o.Name Read
        { $r.CreateViewStream().WriteByte(1) } | Should -Throw
        { $r.CreateViewAccessor(0, 0, 'ReadWrite') } | Should -Throw
        $r.Dispose()
    }
}

Describe 'Wait-MemoryMappedFile' {
    It 'returns the seq of a newer content, and times out with an error' {
        $m = New-MemoryMappedFile (Fresh 'wait') 100
        $seq = $m.Seq
        & mmf write $m.Name 'newer'
        Wait-MemoryMappedFile $m -After $seq -TimeoutSeconds 5 | Should -Be ($seq + 1)
        Wait-MemoryMappedFile $m -TimeoutSeconds 0.1 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $m.Dispose()
    }
    It 'waits on several maps and says which changed, with its seq' {
        $a = New-MemoryMappedFile (Fresh 'wa') 100
        $b = New-MemoryMappedFile (Fresh 'wb') 100
        $c = New-MemoryMappedFile (Fresh 'wc') 100
        & mmf write $b.Name 'old'
        $cn = $c.Name
        $job = Start-ThreadJob { Start-Sleep -Milliseconds 300; & mmf write $using:cn 'go' }
        $r = Wait-MemoryMappedFile $a, $b, $c -TimeoutSeconds 10
        $job | Wait-Job | Remove-Job
        $r.Name | Should -Be $c.Name
        $r.Index | Should -Be 2
        $r.Seq | Should -Be 1
        $r.MemoryMappedFile | Should -Be $c
        (Wait-MemoryMappedFile $a, $b -After 0).Name | Should -Be $b.Name
        Wait-MemoryMappedFile $a, $c -TimeoutSeconds 0.3 -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $a.Dispose(); $b.Dispose(); $c.Dispose()
    }
}

Describe 'Waits end at once on Stop and on Dispose' {
    BeforeAll {
        # A command in another runspace, given the map; started, not awaited.
        function script:Start-In([object]$m, [string]$script) {
            $ps = [PowerShell]::Create()
            $null = $ps.AddScript("Import-Module System.IO.MemoryMappedFiles.Commands; `$m = `$args[0]; $script").AddArgument($m)
            @{ ps = $ps; h = $ps.BeginInvoke() }
        }
    }
    It 'Stop() ends <Command> within a second, not at its timeout' -ForEach @(
        @{ Command = 'Wait-MemoryMappedFile $m -TimeoutSeconds 20' }
        @{ Command = 'Wait-MemoryMappedFile $m, $m -TimeoutSeconds 20' }
        @{ Command = 'Wait-MemoryMappedFile $m' }
        @{ Command = 'Read-MemoryMappedFile $m -Follow' }
    ) {
        $m = New-MemoryMappedFile (Fresh 'stop') 100
        $r = Start-In $m $Command
        Start-Sleep -Milliseconds 800
        $r.h.IsCompleted | Should -BeFalse
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r.ps.Stop()
        $sw.ElapsedMilliseconds | Should -BeLessThan 1000
        $r.ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $r.ps.Dispose(); $m.Dispose()
    }
    It 'a Dispose() of the map in another runspace ends <Command> with ObjectDisposedException naming it' -ForEach @(
        @{ Command = 'Wait-MemoryMappedFile $m -TimeoutSeconds 20' }
        @{ Command = 'Wait-MemoryMappedFile $m' }
        @{ Command = 'Read-MemoryMappedFile $m -Follow -TimeoutSeconds 20' }
    ) {
        $m = New-MemoryMappedFile (Fresh 'disp') 100
        $r = Start-In $m "try { $Command } catch { `$_ }"
        Start-Sleep -Milliseconds 800
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $m.Dispose()
        $r.h.AsyncWaitHandle.WaitOne(5000) | Should -BeTrue
        $sw.ElapsedMilliseconds | Should -BeLessThan 1000
        $err = @($r.ps.EndInvoke($r.h)) | Where-Object { $_ -is [Management.Automation.ErrorRecord] }
        $err[0].Exception | Should -BeOfType [ObjectDisposedException]
        $err[0].Exception.Message | Should -Match ([regex]::Escape($m.Name))
        $r.ps.Dispose()
    }
}

Describe 'GetWatcher: a map''s changes as a .NET event and a WaitHandle' {
    It 'raises Changed for Register-ObjectEvent at each new content, from no thread of the script' {
        $m = New-MemoryMappedFile (Fresh 'watch') 100
        & mmf write $m.Name 'before'
        $w = $m.GetWatcher()
        $w.Seq | Should -Be 1
        $m.GetWatcher() | Should -Be $w
        $id = 'mmf-watch-' + [guid]::NewGuid()
        Register-ObjectEvent -InputObject $w -EventName Changed -SourceIdentifier $id
        & mmf write $m.Name 'one'
        $e = Wait-Event -SourceIdentifier $id -Timeout 10
        $e | Should -Not -BeNullOrEmpty
        $e.SourceEventArgs.Seq | Should -Be 2
        $e.SourceEventArgs.Name | Should -Be $m.Name
        $e | Remove-Event
        & mmf write $m.Name 'two'
        $e = Wait-Event -SourceIdentifier $id -Timeout 10
        $e.SourceEventArgs.Seq | Should -Be 3
        $e | Remove-Event
        Unregister-Event -SourceIdentifier $id
        $w.Seq | Should -Be 3
        $m.Dispose()
        $w.IsDisposed | Should -BeTrue
    }
    It 'sets its WaitHandle at a new content, and not before' {
        $m = New-MemoryMappedFile (Fresh 'wh') 100
        $w = $m.GetWatcher()
        $w.WaitHandle.WaitOne(200) | Should -BeFalse
        & mmf write $m.Name 'x'
        $w.WaitHandle.WaitOne(10000) | Should -BeTrue
        $w.Seq | Should -Be 1
        $w.Dispose()
        $m.GetWatcher() | Should -Not -Be $w
        $m.Dispose()
    }
    It 'refuses a raw map' {
        $n = Fresh 'wraw'
        & mmf new $n --size 16 --raw
        $m = Open-MemoryMappedFile $n
        { $m.GetWatcher() } | Should -Throw '*raw*'
        $m.Dispose()
        & mmf remove $n
    }
}

Describe 'Get-MemoryMappedFile' {
    It 'lists maps by wildcard with their facts' {
        $m = New-MemoryMappedFile (Fresh 'list') 100
        $l = Get-MemoryMappedFile $m.Name
        $l.Kind | Should -Be 'mmf'
        $l.Capacity | Should -Be 4096
        $l.Holders | Should -Be 1
        $l.Transient | Should -BeTrue
        $l.Mode | Should -Be '1600'
        $m.Dispose()
    }
}

Describe 'issue 19 item 1: the map object cannot be misused' {
    It 'has no public handle members: no Acquire, Release, NameHandle, OwnedStream' {
        $m = New-MemoryMappedFile (Fresh) 100
        $names = $m.PSObject.Members.Name
        foreach ($n in 'Acquire', 'Release', 'NameHandle', 'OwnedStream', 'Handle') { $names | Should -Not -Contain $n }
        $m.Dispose()
    }
    It 'keeps a view''s writes in its own map after the map is disposed twice and another is made' {
        $m = New-MemoryMappedFile (Fresh) 100
        $a = $m.CreateViewAccessor()
        $m.Dispose(); $m.Dispose()
        $other = New-MemoryMappedFile (Fresh) 100
        Out-MemoryMappedFile $other 'other'
        $a.Write(0, [byte]88)
        $a.Flush()
        Read-MemoryMappedFile $other | Should -Be 'other'
        $a.Dispose()
        { $a.ReadByte(0) } | Should -Throw -ExceptionType ([System.Management.Automation.MethodInvocationException])
        try { $a.ReadByte(0) } catch { $_.Exception.InnerException | Should -BeOfType System.ObjectDisposedException }
        $other.Dispose()
    }
}

Describe 'issue 19 item 2: an abandoned map is closed when collected' {
    It 'gives back every descriptor and holder after 3000 Open- without Remove-' {
        $n = Fresh 'leak'
        $m = New-MemoryMappedFile $n 100
        $fds = (Get-ChildItem /proc/self/fd).Count
        foreach ($i in 1..3000) { $null = Open-MemoryMappedFile $n }
        (Get-MemoryMappedFile $n).Holders | Should -BeGreaterThan 1
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        (Get-ChildItem /proc/self/fd).Count | Should -BeLessOrEqual ($fds + 5)
        (Get-MemoryMappedFile $n).Holders | Should -Be 1
        $m.Dispose()
    }
}

Describe 'issue 19 item 3: only the map and the string take pipeline input by value' {
    BeforeEach { $script:m = New-MemoryMappedFile (Fresh 'pipe') 100; Out-MemoryMappedFile $script:m 'before' }
    AfterEach { $script:m.Dispose() }
    It 'replaces the content with a piped number, long, double' {
        42 | Out-MemoryMappedFile -MemoryMappedFile $script:m
        Read-MemoryMappedFile $script:m | Should -Be '42'
        [long]7 | Out-MemoryMappedFile -MemoryMappedFile $script:m
        Read-MemoryMappedFile $script:m | Should -Be '7'
        1.5 | Out-MemoryMappedFile -MemoryMappedFile $script:m
        Read-MemoryMappedFile $script:m | Should -Be '1.5'
    }
    It 'declares ValueFromPipeline on the map and the string parameters only' {
        foreach ($c in Get-Command -Module System.IO.MemoryMappedFiles.Commands) {
            foreach ($p in $c.Parameters.Values) {
                $byValue = @($p.Attributes | Where-Object { $_ -is [Parameter] -and $_.ValueFromPipeline }).Count -gt 0
                if ($byValue) {
                    ($p.ParameterType.Name -in 'MemoryMappedFile', 'MemoryMappedFile[]', 'String', 'MapName') | Should -BeTrue -Because "$($c.Name) -$($p.Name)"
                }
            }
        }
    }
}

Describe 'issue 19 item 4: statement-terminating errors of .NET''s types' {
    It 'lets try/catch catch a missing map as FileNotFoundException without -ErrorAction Stop' {
        $caught = $null
        try { $null = Open-MemoryMappedFile -Name "$script:prefix-missing"; $caught = 'none' }
        catch [System.IO.FileNotFoundException] { $caught = $_ }
        $caught | Should -BeOfType System.Management.Automation.ErrorRecord
        $caught.FullyQualifiedErrorId | Should -BeLike 'MapNotFound,*'
        $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
    It 'ends the statement, not the script, outside try' {
        $out = & pwsh -NoProfile -Command "Import-Module System.IO.MemoryMappedFiles.Commands; `$m = Open-MemoryMappedFile $script:prefix-missing 2>`$null; 'went on'"
        $out | Should -Be 'went on'
    }
    It 'throws IOException for an existing map, UnauthorizedAccessException, ArgumentOutOfRangeException for sizes' {
        $n = Fresh
        $a = New-MemoryMappedFile $n 100
        { New-MemoryMappedFile $n 100 } | Should -Throw -ExceptionType ([System.IO.IOException]) -ErrorId 'MapExists,*'
        $r = Open-MemoryMappedFile $n Read
        { Out-MemoryMappedFile $r 'x' } | Should -Throw -ExceptionType ([System.UnauthorizedAccessException]) -ErrorId 'MapReadOnly,*'
        { New-MemoryMappedFile (Fresh) 0 } | Should -Throw -ExceptionType ([System.ArgumentOutOfRangeException]) -ErrorId 'SizeOutOfRange,*'
        { New-MemoryMappedFile (Fresh) ([long]::MaxValue) } | Should -Throw -ExceptionType ([System.ArgumentOutOfRangeException])
        { Out-MemoryMappedFile $a ('x' * 5000) } | Should -Throw -ExceptionType ([System.ArgumentOutOfRangeException]) -ErrorId 'ContentTooLarge,*'
        { New-MemoryMappedFile ./missing-file Open } | Should -Throw -ExceptionType ([System.IO.FileNotFoundException]) -ErrorId 'FileNotFound,*'
        $r.Dispose(); $a.Dispose()
    }
    It 'throws DirectoryNotFoundException, as .NET, for a file in a folder that does not exist' {
        $m = New-MemoryMappedFile (Fresh) 100
        foreach ($cmd in { New-MemoryMappedFile -Path ./no-dir/x.mmf -FileMode CreateNew -Size 10 },
                         { New-MemoryMappedFile ./no-dir/x.mmf Open }, { Save-MemoryMappedFile $m ./no-dir/x.txt }) {
            $e = $null
            try { & $cmd } catch { $e = $_ }
            $e.Exception | Should -BeOfType System.IO.DirectoryNotFoundException -Because "$cmd"
            $e.FullyQualifiedErrorId | Should -BeLike 'DirectoryNotFound,*'
            $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
        try { New-MemoryMappedFile -Path ./no-dir/x.mmf -FileMode CreateNew -Size 10 } catch { "$_" | Should -Match 'no such directory: .*no-dir$' }
        $m.Dispose()
    }
    It 'has readable ErrorIds, without errno numbers; a directory is InvalidType' {
        try { New-MemoryMappedFile -Path $script:dir -FileMode Open } catch { $e = $_ }
        $e.CategoryInfo.Category | Should -Be 'InvalidType'
        $e.FullyQualifiedErrorId | Should -BeLike 'IsADirectory,*'
        try { New-MemoryMappedFile -Name 'a\b' -Size 10 } catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -Not -Match '\d'
    }
    It 'is silent with -ErrorAction SilentlyContinue and Ignore, returning nothing' {
        $r = Open-MemoryMappedFile "$script:prefix-missing" -ErrorAction SilentlyContinue -ErrorVariable ev
        $r | Should -BeNullOrEmpty
        $ev[0].Exception | Should -BeOfType System.IO.FileNotFoundException
        $r = Open-MemoryMappedFile "$script:prefix-missing" -ErrorAction Ignore
        $r | Should -BeNullOrEmpty
    }
}

Describe 'issue 19 item 5: a view write costs what it writes' {
    It 'writes 200 longs into a 64 MB content in well under the time of one copy per write' {
        $m = New-MemoryMappedFile (Fresh 'speed') (64MB)
        $s = $m.CreateViewStream(); $s.Write([byte[]]::new(64MB), 0, 64MB); $s.Dispose()
        $m.Length | Should -Be (64MB)
        $a = $m.CreateViewAccessor()
        $t = [Diagnostics.Stopwatch]::StartNew()
        for ($i = 0; $i -lt 200; $i++) { $a.Write([long]($i * 300000), [long]$i) }
        $t.Stop()
        $t.ElapsedMilliseconds | Should -BeLessThan 300 -Because 'a copy of 64 MB per write took 1.5 s for 200'
        $a.Dispose()
        $b = $m.CreateViewAccessor()
        $b.ReadInt64(199 * 300000) | Should -Be 199
        $b.Dispose(); $m.Dispose()
    }
    It 'publishes each written range as a content of its own, in ascending order, growing the content with zeros' {
        $m = New-MemoryMappedFile (Fresh 'ranges1') 8192
        Out-MemoryMappedFile $m 'hello'
        $seq = $m.Seq
        $a = $m.CreateViewAccessor()
        $a.Write(6000, [int]0x44434241)    # past the end: the gap is zeros
        $a.Write(0, [byte][char]'H')
        $a.Write(1, [byte][char]'E')        # adjacent: one range with the last
        $a.Flush()
        $m.Seq | Should -Be ($seq + 2) -Because 'one publication per range, each costing its own bytes'
        $m.Length | Should -Be 6004
        $got = Read-MemoryMappedFile $m
        $got.Substring(0, 5) | Should -Be 'HEllo'
        $got.Substring(5, 5995) | Should -Be ("`0" * 5995)
        $got.Substring(6000) | Should -Be 'ABCD'
        $a.Flush()
        $m.Seq | Should -Be ($seq + 2) -Because 'nothing is left to publish'
        $a.Dispose(); $m.Dispose()
    }
    It 'keeps the writes of a view that starts inside the map at their place in the content' {
        $m = New-MemoryMappedFile (Fresh 'window') 8192
        Out-MemoryMappedFile $m ('.' * 200)
        $a = $m.CreateViewAccessor(100, 50)
        $a.Write(0, [byte][char]'A'); $a.Write(49, [byte][char]'B')
        $a.ReadByte(49) | Should -Be ([byte][char]'B')
        $a.Dispose()
        $t = Read-MemoryMappedFile $m
        $t[100] | Should -Be 'A'; $t[149] | Should -Be 'B'; $t[99] | Should -Be '.'; $t.Length | Should -Be 200
        $m.Dispose()
    }
    It 'reads and writes a raw object beyond 2 GB through a view' {
        $n = Fresh 'rawbig'
        $f = [IO.File]::Create("/dev/shm/$n"); $f.SetLength(3GB); $f.Dispose()   # sparse
        try {
            $m = Open-MemoryMappedFile $n
            $a = $m.CreateViewAccessor()
            $a.Write(2.5GB, [long]42)
            $a.ReadInt64(2.5GB) | Should -Be 42
            $a.Dispose(); $m.Dispose()
        } finally { Remove-Item "/dev/shm/$n" }
    }
    It 'keeps overlapping, adjacent and out-of-order writes as a byte array would, before and after Flush' {
        $m = New-MemoryMappedFile (Fresh 'ranges') 20000
        Out-MemoryMappedFile $m ('o' * 9000)
        $model = [byte[]]::new(20000)
        [Text.Encoding]::ASCII.GetBytes('o' * 9000).CopyTo($model, 0)
        $a = $m.CreateViewAccessor()
        $rnd = [Random]::new(19)
        $end = 9000
        for ($i = 0; $i -lt 400; $i++) {
            $pos = $rnd.Next(0, 19000); $n = $rnd.Next(1, [Math]::Min(900, 20000 - $pos))
            $bytes = [byte[]]::new($n); $rnd.NextBytes($bytes)
            $a.WriteArray($pos, $bytes, 0, $n)
            [Array]::Copy($bytes, 0, $model, $pos, $n)
            if ($pos + $n -gt $end) { $end = $pos + $n }
            if ($i % 97 -eq 0) {
                $got = [byte[]]::new(20000); $null = $a.ReadArray(0, $got, 0, 20000)
                [Convert]::ToBase64String($got) | Should -Be ([Convert]::ToBase64String($model))
            }
        }
        $a.Flush()
        $m.Length | Should -Be $end
        $c = $m.CreateViewAccessor(); $got = [byte[]]::new(20000); $null = $c.ReadArray(0, $got, 0, 20000); $c.Dispose()
        [Convert]::ToBase64String($got) | Should -Be ([Convert]::ToBase64String($model))
        $a.Dispose(); $m.Dispose()
    }
}

Describe 'issue 19 item 6: a binary module, nothing compiled or written at import' {
    It 'is a DLL with MAML help; no C# source; import writes nothing' {
        $mod = Get-Module System.IO.MemoryMappedFiles.Commands
        $mod.ModuleType | Should -Be 'Binary'
        $base = $mod.ModuleBase
        Get-ChildItem $base -Recurse -Filter *.cs | Should -BeNullOrEmpty
        Get-ChildItem $base -Recurse -Filter *.psm1 | Should -BeNullOrEmpty
        "$base/en-US/System.IO.MemoryMappedFiles.Commands.dll-Help.xml" | Should -Exist
        $cache = Join-Path $script:dir 'cache'
        New-Item -ItemType Directory $cache | Out-Null
        $before = Get-ChildItem $base -Recurse | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" }
        $out = & env XDG_CACHE_HOME=$cache pwsh -NoProfile -Command 'Import-Module System.IO.MemoryMappedFiles.Commands; (Get-Command New-MemoryMappedFile).CommandType' 2>&1
        "$out" | Should -Be 'Cmdlet'
        Test-Path (Join-Path $cache 'mmf') | Should -BeFalse
        Get-ChildItem $base -Recurse | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" } | Should -Be $before
    }
}

Describe 'issue 19 item 7: a module folder that works where it is copied' {
    It 'holds its DLL, libmmf.so.1 and mmf-watch, and one .psd1' {
        $base = (Get-Module System.IO.MemoryMappedFiles.Commands).ModuleBase
        foreach ($f in 'System.IO.MemoryMappedFiles.Commands.dll', 'libmmf.so.1', 'mmf-watch') { "$base/$f" | Should -Exist }
        @(Get-ChildItem $base -Recurse -Filter *.psd1).Count | Should -Be 1
    }
    It 'loads the libmmf of its own folder' {
        $base = (Get-Module System.IO.MemoryMappedFiles.Commands).ModuleBase
        $lib = (Get-Content /proc/$PID/maps | Select-String -SimpleMatch 'libmmf.so' | Select-Object -First 1).Line -replace '.* ', ''
        $lib | Should -Be "$base/libmmf.so.1"
    }
    It 'says clearly that a bogus $env:MMF_LIBRARY cannot be loaded' {
        $out = & env MMF_LIBRARY=/nonexistent/libmmf.so.1 pwsh -NoProfile -Command 'Import-Module System.IO.MemoryMappedFiles.Commands' 2>&1
        "$out" | Should -Match 'MMF_LIBRARY'
        "$out" | Should -Match '/nonexistent/libmmf.so.1'
    }
}

Describe 'issue 19 item 8: positional forms' {
    It 'binds Path FileMode Name Size, and Name Size Access' {
        $n = Fresh
        $m = New-MemoryMappedFile ./pos4.mmf CreateNew $n 4096
        $m.Name | Should -Be $n
        $m.Capacity | Should -BeGreaterOrEqual 4096
        $m.Dispose()
        $n = Fresh
        $m = New-MemoryMappedFile $n 1024 ReadWrite
        $m.Name | Should -Be $n
        $m.Access | Should -Be 'ReadWrite'
        $m.Dispose()
    }
}

Describe 'issue 19 item 8: every positional form of the original 1.1.1.0 binds' {
    It 'binds <form>' -ForEach @(
        @{ form = 'Name Size (Default)'; run = { param($n) New-MemoryMappedFile $n 4096 }; want = @{ Kind = 'mmf'; Access = 'ReadWrite' } }
        @{ form = 'Name Size Access (MemoryMappedFileAccessSet)'; run = { param($n) New-MemoryMappedFile $n 4096 ReadWriteExecute }; want = @{ Access = 'ReadWriteExecute' } }
        @{ form = 'Name Size Access Options Inheritability (MemoryMappedFileOptionSet)'; run = { param($n) New-MemoryMappedFile $n 4096 ReadWrite DelayAllocatePages Inheritable }; want = @{ Inheritability = 'Inheritable' } }
        @{ form = 'Path (CreateFromFileSet)'; run = { param($n) New-MemoryMappedFile ./posfile.mmf }; want = @{ Kind = 'file'; Path = '$path' } }
        @{ form = 'Path FileMode (FileModeSet)'; run = { param($n) New-MemoryMappedFile ./posfile.mmf Open }; want = @{ Kind = 'file'; Path = '$path' } }
        @{ form = 'Path FileMode Name (CreateFromFileSet3)'; run = { param($n) New-MemoryMappedFile ./posfile.mmf Open $n }; want = @{ Kind = 'file'; Name = '$n' } }
        @{ form = 'Path FileMode Name Size (CreateFromFileSet4)'; run = { param($n) New-MemoryMappedFile ./pos4b.mmf CreateNew $n 4096 }; want = @{ Name = '$n'; Access = 'ReadWrite' } }
        @{ form = 'Path FileMode Name Size Access (CreateFromFileSet5)'; run = { param($n) New-MemoryMappedFile ./pos5b.mmf CreateNew $n 4096 ReadWrite }; want = @{ Name = '$n'; Access = 'ReadWrite' } }
        @{ form = 'FileStream Name Size Access Inheritability leaveOpen (FileStreamSet)'; run = { param($n) New-MemoryMappedFile $script:fs $n 4096 ReadWrite None $true }; want = @{ Name = '$n'; Access = 'ReadWrite' } }
    ) {
        if (-not (Test-Path ./posfile.mmf)) { [IO.File]::WriteAllBytes("$PWD/posfile.mmf", [byte[]]::new(4096)) }
        $script:fs = [IO.File]::Open("$PWD/posfs.mmf", 'OpenOrCreate', 'ReadWrite')
        $n = Fresh 'pos'
        $m = & $run $n
        try {
            $m | Should -Not -BeNullOrEmpty
            foreach ($k in $want.Keys) {
                $v = $want[$k]; if ($v -eq '$n') { $v = $n } elseif ($v -eq '$path') { $v = "$PWD/posfile.mmf" }
                $m.$k | Should -Be $v -Because "$form binds -$k"
            }
        } finally { if ($m) { $m.Dispose() }; $script:fs.Dispose() }
    }
}

Describe 'issue 19 item 9: names the original takes' {
    It 'takes a name with a space and non-ASCII letters' {
        foreach ($n in "$script:prefix-Shared Data", "$script:prefix-ünï") {
            $m = New-MemoryMappedFile $n 100
            Out-MemoryMappedFile $m 'named'
            Read-MemoryMappedFile (Open-MemoryMappedFile $n) | Should -Be 'named'
            (Get-MemoryMappedFile $n).Name | Should -Be $n
            $m.Dispose()
        }
    }
    It "refuses '\' as .NET does, and '/'" {
        { New-MemoryMappedFile -Name 'a\b' -Size 10 } | Should -Throw '*\*'
        { Open-MemoryMappedFile 'a\b' } | Should -Throw -ErrorId 'InvalidMapName,*'
        { New-MemoryMappedFile -Name 'a/b' -Size 10 } | Should -Throw '*-Path*'
    }
    It "reports a name with '/' given by name, splatted or piped as ArgumentException InvalidMapName; by position it is a path" {
        $p = @{ Name = 'a/b'; Size = 10 }
        foreach ($cmd in { New-MemoryMappedFile -Name 'a/b' -Size 10 }, { New-MemoryMappedFile @p },
                         { 'a/b' | New-MemoryMappedFile -Size 10 }, { [pscustomobject]$p | New-MemoryMappedFile }) {
            $e = $null
            try { & $cmd } catch { $e = $_ }
            $e.Exception | Should -BeOfType [ArgumentException] -Because "$cmd"
            $e.FullyQualifiedErrorId | Should -BeLike 'InvalidMapName,*'
            $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        $n = Fresh
        $m = New-MemoryMappedFile ./slash.mmf CreateNew $n 4096
        $m.Path | Should -Be "$PWD/slash.mmf"
        $m.Dispose()
    }
}

Describe 'issue 19 item 10: the smaller things' {
    It 'appends with CRLF, as the original, or -Separator' {
        $m = New-MemoryMappedFile (Fresh) 100
        Out-MemoryMappedFile $m 'a'
        Out-MemoryMappedFile $m 'b' -Append
        Out-MemoryMappedFile $m 'c' -Append -Separator "`n"
        Read-MemoryMappedFile $m | Should -Be "a`r`nb`nc"
        $m.Dispose()
    }
    It 'says what fits when appending to a full map' {
        $m = New-MemoryMappedFile (Fresh) 4096
        Out-MemoryMappedFile $m ('x' * 4096)
        try { Out-MemoryMappedFile $m ('y' * 100) -Append } catch { $e = $_ }
        "$e" | Should -Match 'appending 102 bytes \(2 of them the separator\) does not fit: the content is 4096 of the 4096-byte capacity, so 0 bytes are free'
        $m.Dispose()
    }
    It 'shows Name, Capacity, Length, Seq and Holders by default' {
        $m = New-MemoryMappedFile (Fresh 'fmt') 100
        $text = $m | Out-String
        $text | Should -Match 'Name\s+Capacity\s+Length\s+Seq\s+Holders'
        $text | Should -Not -Match 'SafeMemoryMappedFileHandle'
        $m.Dispose()
    }
    It 'completes map names from /dev/shm' {
        $n = Fresh 'complete'
        $m = New-MemoryMappedFile $n 100
        $line = "Open-MemoryMappedFile -Name $($n.Substring(0, $n.Length - 3))"
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Should -Contain $n
        $m.Dispose()
    }
    It 'quotes a completed name that PowerShell would read as a parameter or a number' {
        $n = "-$(Fresh 'dash')"
        $m = New-MemoryMappedFile -Name $n -Size 100
        $line = "Open-MemoryMappedFile -Name "
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Should -Contain "'$n'"
        $m.Dispose()
        foreach ($w in '1kb', '0x10', '1e3', '0123', '.5', '+1') { [Mmf.MapNameCompleter]::Quote($w) | Should -Be "'$w'" }
        foreach ($w in 'Test', 'a-b.c', 'ünï', '_x1') { [Mmf.MapNameCompleter]::Quote($w) | Should -Be $w }
        [Mmf.MapNameCompleter]::Quote("it's") | Should -Be "'it''s'"
    }
    It 'gives a map the mode -UnixFileMode asks, octal or [IO.UnixFileMode]' {
        $m = New-MemoryMappedFile (Fresh) 100 -UnixFileMode 0640
        (Get-MemoryMappedFile $m.Name).Mode | Should -Match '640$'
        $m.Dispose()
        $m = New-MemoryMappedFile (Fresh) 100 -UnixFileMode '0604'
        (Get-MemoryMappedFile $m.Name).Mode | Should -Match '604$'
        $m.Dispose()
        $m = New-MemoryMappedFile (Fresh) 100 -UnixFileMode ([IO.UnixFileMode]'UserRead, UserWrite, GroupRead, GroupWrite')
        (Get-MemoryMappedFile $m.Name).Mode | Should -Match '660$'
        $m.Dispose()
        { New-MemoryMappedFile (Fresh) 100 -UnixFileMode 0999 } | Should -Throw '*octal*'
    }
    It 'has help with INPUTS, OUTPUTS, related links and an about_ topic, and claims no "never a crash"' {
        foreach ($c in Get-Command -Module System.IO.MemoryMappedFiles.Commands) {
            $h = Get-Help $c.Name -Full
            $h.inputTypes.inputType | Should -Not -BeNullOrEmpty -Because $c.Name
            $h.returnValues.returnValue | Should -Not -BeNullOrEmpty -Because $c.Name
            $h.relatedLinks.navigationLink.linkText | Should -Contain 'about_System.IO.MemoryMappedFiles.Commands'
            ($h | Out-String) | Should -Not -Match 'never a crash'
        }
        (Get-Help about_System.IO.MemoryMappedFiles.Commands | Out-String) | Should -Match 'FileNotFoundException'
    }
}

Describe 'what a user found' {
    It 'maps a file without a name: -Path -FileMode CreateNew -Size' {
        $f = Join-Path $script:dir "$(Fresh 'noname').mmf"
        $before = @(Get-ChildItem /dev/shm).Count
        $m = New-MemoryMappedFile -Path $f -FileMode CreateNew -Size 4096
        $m.Capacity | Should -BeGreaterOrEqual 4096
        $m.Name | Should -Be $f
        Test-Path $f | Should -BeTrue
        Out-MemoryMappedFile $m 'in the file'
        Read-MemoryMappedFile $m | Should -Be 'in the file'
        $m.Dispose()
        { New-MemoryMappedFile -Path "$f-2" -FileMode CreateNew } | Should -Throw '*-Size*' -ErrorId 'SizeRequired,*'
    }
    It "reports the bad name <Name> as ArgumentException InvalidMapName, worded once" -ForEach @(
        @{ Name = 'ps\z' }, @{ Name = 'ps/z' }, @{ Name = '' }, @{ Name = ('x' * 300) }
    ) {
        foreach ($cmd in { New-MemoryMappedFile -Name $Name -Size 10 }, { Open-MemoryMappedFile -Name $Name }) {
            $e = $null
            try { & $cmd } catch { $e = $_ }
            $e | Should -Not -BeNullOrEmpty
            $e.Exception | Should -BeOfType [ArgumentException]
            $e.FullyQualifiedErrorId | Should -BeLike 'InvalidMapName,*'
            ([regex]::Matches($e.Exception.Message, 'not a valid map name')).Count | Should -BeLessOrEqual 1
        }
    }
    It 'shows a removed map as (removed), whole' {
        $m = New-MemoryMappedFile (Fresh 'rm') 100
        $m.Dispose()
        ($m | Format-Table | Out-String -Width 200) | Should -Match '\(removed\)'
    }
    It 'lists a map whose name has wildcard characters by its name, and says -Name takes wildcards' {
        $n = (Fresh 'wild') + '-[br]'
        $m = New-MemoryMappedFile -Name $n -Size 100
        (Get-MemoryMappedFile $n).Name | Should -Be $n
        (Get-Help Get-MemoryMappedFile -Parameter Name).globbing | Should -Be 'true'
        $m.Dispose()
    }
    It 'refuses a -TimeoutSeconds of <T>' -ForEach @(@{ T = -1 }, @{ T = [double]::NaN }) {
        $m = New-MemoryMappedFile (Fresh 'to') 100
        { Wait-MemoryMappedFile $m -TimeoutSeconds $T } | Should -Throw -ErrorId 'TimeoutOutOfRange,*'
        { Read-MemoryMappedFile $m -Follow -TimeoutSeconds $T } | Should -Throw -ErrorId 'TimeoutOutOfRange,*'
        $m.Dispose()
    }
    It 'clears a content with an empty string' {
        $m = New-MemoryMappedFile (Fresh 'empty') 100
        Out-MemoryMappedFile $m 'something'
        Out-MemoryMappedFile $m ''
        $m.Length | Should -Be 0
        Read-MemoryMappedFile $m | Should -Be ''
        $m.Dispose()
    }
    It 'names the map in an ObjectDisposedException' {
        $m = New-MemoryMappedFile (Fresh 'gone') 100
        $m.Dispose()
        foreach ($cmd in { Read-MemoryMappedFile $m }, { Out-MemoryMappedFile $m 'x' }, { Wait-MemoryMappedFile $m -TimeoutSeconds 1 }, { Save-MemoryMappedFile $m ./x }) {
            $e = $null
            try { & $cmd } catch { $e = $_ }
            $e.Exception | Should -BeOfType [ObjectDisposedException]
            $e.Exception.Message | Should -Match ([regex]::Escape($m.Name))
        }
    }
}

Describe 'a view of an mmf map reads one whole content' {
    It 'reads the content of its first read to the end, whatever is published meanwhile, and the newest after Flush()' {
        $m = New-MemoryMappedFile (Fresh 'snap') (128KB)
        Out-MemoryMappedFile $m ('A' * 100000)
        $other = Open-MemoryMappedFile $m.Name
        $v = $m.CreateViewStream()
        $v.ReadByte() | Should -Be ([byte][char]'A')
        Out-MemoryMappedFile $other ('B' * 100000)
        & mmf write $m.Name ('C' * 50000)
        $v.Position = 99999
        $v.ReadByte() | Should -Be ([byte][char]'A')
        $v.Position = 0
        $all = [IO.StreamReader]::new($v).ReadToEnd().TrimEnd("`0")
        $all | Should -Be ('A' * 100000)
        $v.Flush()
        $v.Position = 0
        $v.ReadByte() | Should -Be ([byte][char]'C')
        $v.Position = 50000
        $v.ReadByte() | Should -Be 0
        $v.Dispose()
        $a = $m.CreateViewAccessor()
        $a.ReadByte(0) | Should -Be ([byte][char]'C')
        Out-MemoryMappedFile $other 'D'
        $a.ReadByte(0) | Should -Be ([byte][char]'C')
        $a.ReadByte(1) | Should -Be ([byte][char]'C')
        $a.Write(2, [byte]69)
        $a.ReadByte(2) | Should -Be 69
        $a.Dispose()
        # The view's write went over the newest content (D), not its snapshot.
        Read-MemoryMappedFile $m | Should -Be ("D`0E")
        $other.Dispose(); $m.Dispose()
    }
}

Describe 'the view accessor takes any unmanaged type, as UnmanagedMemoryAccessor' {
    It 'writes and reads arrays, structs and decimals of their own type; another type is an error' {
        $m = New-MemoryMappedFile (Fresh 'acc') 4096
        $a = $m.CreateViewAccessor()
        $a.WriteArray(0, [int[]](1..10), 0, 10)
        $o = [int[]]::new(10)
        $a.ReadArray(0, $o, 0, 10) | Should -Be 10
        $o | Should -Be (1..10)
        $b = [byte[]]::new(8)
        $a.ReadArray(0, $b, 0, 8) | Should -Be 8
        $b | Should -Be @(1, 0, 0, 0, 2, 0, 0, 0)
        $d = [double[]]::new(3)
        $a.ReadArray(4088, $d, 0, 3) | Should -Be 1   # as many as fit
        $a.Write(100, [decimal]12.345)
        $a.ReadDecimal(100) | Should -Be ([decimal]12.345)
        $g = [guid]::NewGuid()
        $a.Write(200, [ref]$g)
        $h = [guid]::Empty
        $a.Read(200, [ref]$h)
        $h | Should -Be $g
        { $a.ReadArray(0, [object[]]::new(3), 0, 3) } | Should -Throw
        { $a.WriteArray(0, [int[]](1..10), 5, 10) } | Should -Throw
        $a.Dispose()
        $m.Dispose()
    }
}
