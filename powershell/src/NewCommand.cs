// SPDX-License-Identifier: MIT
// New-MemoryMappedFile, with the original's parameter sets.  PowerShell binds
// positional arguments to a compiled cmdlet by type, trying each parameter
// set, which lets "New-MemoryMappedFile Test 1024" name a map and
// "New-MemoryMappedFile ./f CreateNew X 4096" map a file named X.
using System;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Management.Automation;
using System.Text;

namespace Mmf {
    [Cmdlet(VerbsCommon.New, "MemoryMappedFile", DefaultParameterSetName = "Default",
            SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType("System.IO.MemoryMappedFiles.MemoryMappedFile")]
    public sealed class NewMemoryMappedFileCommand : MmfCmdlet {
        // Declared in the order that positional binding needs: where two
        // parameters share a position, the first declared is tried first.
        // Only the name takes pipeline input by value, as in the original;
        // every parameter takes it by property name.
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 4, ParameterSetName = "CreateFromFileSet5", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "FileStreamSet", ValueFromPipelineByPropertyName = true)]
        [Alias("access")]
        public MemoryMappedFileAccess MemoryMappedFileAccess { get; set; } = MemoryMappedFileAccess.ReadWrite;

        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipelineByPropertyName = true)]
        [Alias("options")]
        public MemoryMappedFileOptions MemoryMappedFileOptions { get; set; }

        [Parameter(Mandatory = true, Position = 4, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 4, ParameterSetName = "FileStreamSet", ValueFromPipelineByPropertyName = true)]
        [Alias("inheritability")]
        public HandleInheritability HandleInheritability { get; set; }

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Default", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "CreateFromFileSet3", ValueFromPipelineByPropertyName = true)]
        // Position 2 in CreateFromFileSet4/5 too in the original; but
        // PowerShell's binder rebinds a parameter it bound at position 0 when
        // it meets it again at a later position, so "New-MemoryMappedFile
        // Test 1024 ReadWrite" would name the map ReadWrite: by name only in
        // those sets.
        [Parameter(Mandatory = true, ParameterSetName = "CreateFromFileSet4", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = "CreateFromFileSet5", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "FileStreamSet", ValueFromPipelineByPropertyName = true)]
        [Alias("mapName")]
        [ArgumentCompleter(typeof(MapNameCompleter))]
        public MapName Name { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "Default", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "CreateFromFileSet4", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "CreateFromFileSet5", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "FileStreamSet", ValueFromPipelineByPropertyName = true)]
        // Beyond the original: a file created without a name
        // (-Path -FileMode CreateNew -Size), as .NET's CreateFromFile(path,
        // mode, null, capacity); by name only, so positions stay the original's.
        [Parameter(ParameterSetName = "FileModeSet", ValueFromPipelineByPropertyName = true)]
        [Alias("capacity")]
        public long Size { get; set; }

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "FileModeSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet3", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet4", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet5", ValueFromPipelineByPropertyName = true)]
        public PathArgument Path { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "FileModeSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "CreateFromFileSet3", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "CreateFromFileSet4", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "CreateFromFileSet5", ValueFromPipelineByPropertyName = true)]
        [Alias("mode")]
        public FileMode FileMode { get; set; } = FileMode.Open;

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "FileStreamSet", ValueFromPipelineByPropertyName = true)]
        public FileStream FileStream { get; set; }

        [Parameter(Position = 2, ParameterSetName = "Default", ValueFromPipelineByPropertyName = true)]
        [Parameter(Position = 3, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipelineByPropertyName = true)]
        [Parameter(Position = 5, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipelineByPropertyName = true)]
        public SwitchParameter CreateOrOpen { get; set; }

        [Parameter(Mandatory = true, Position = 5, ParameterSetName = "FileStreamSet", ValueFromPipelineByPropertyName = true)]
        public bool leaveOpen { get; set; }

        // Beyond the original: the permission bits of a map made by name or
        // a file made by -Path (the original's -mode is -FileMode's alias).
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("Permission")]
        public UnixMode UnixFileMode { get; set; }

        uint ModeBits { get { return UnixFileMode != null ? UnixFileMode.Value : 0; } }

        protected override void Process() {
            string set = ParameterSetName;
            var access = MemoryMappedFileAccess;
            string label = Name != null ? Name.Value : Path != null ? Path.Value : FileStream != null ? FileStream.Name : "";
            if (Name != null && Name.Error != null)
                FailArgument(Verb + " " + Name.Value + ": " + Name.Error, Name.Value, "InvalidMapName");
            if (access == MemoryMappedFileAccess.Write)
                FailArgument(Verb + " " + label + ": -MemoryMappedFileAccess Write is not allowed (a map must be readable); use ReadWrite", access);
            if (MyInvocation.BoundParameters.ContainsKey("Size") && Size <= 0)
                FailRange("Size", Verb + " " + label + ": -Size must be at least 1 byte (it is " + Size + ")", Size, "SizeOutOfRange");
            if (access == MemoryMappedFileAccess.ReadExecute || access == MemoryMappedFileAccess.ReadWriteExecute)
                WriteVerbose(Verb + ": " + access + " access is granted without executable pages");
            MemoryMappedFile m;
            if (set == "Default" || set == "MemoryMappedFileAccessSet" || set == "MemoryMappedFileOptionSet") {
                m = CreateNamed(access);
            } else if (set == "FileStreamSet") {
                m = FromStream(access);
            } else {
                string full = FullPath(Path.Value);
                if (!ShouldProcess(full, "Map file (" + FileMode + ")")) return;
                m = FromPath(full, FileMode, MyInvocation.BoundParameters.ContainsKey("Size") ? Size : 0, access,
                             Name != null ? Name.Value : null);
            }
            if (m == null) return;
            if (HandleInheritability == HandleInheritability.Inheritable) {
                int r = m.MakeInheritable();
                if (r < 0) { m.Dispose(); Fail(r, Message(m.Name, r), m.Name); }
            }
            WriteObject(Wrap(m));
        }

        MemoryMappedFile CreateNamed(MemoryMappedFileAccess access) {
            string name = Name.Value;
            if (!ShouldProcess("/dev/shm/" + name, "Create memory-mapped file")) return null;
            // .NET's views are whole pages: a string of Size characters fits
            // even when its UTF-8 form is a little longer.  So is the capacity.
            if ((ulong)Size > ulong.MaxValue - 4095)
                FailRange("Size", Message(name, -Native.ETOOBIG), Size, "SizeOutOfRange");
            ulong capacity = ((ulong)Size + 4095) / 4096 * 4096;
            int flags = Native.Transient | (CreateOrOpen ? Native.OpenExisting : 0);
            IntPtr p;
            int r = Native.mmf_create(name, (UIntPtr)capacity, flags, ModeBits, out p);
            if (r == -Native.ETOOBIG) FailRange("Size", Message(name, r), Size, "SizeOutOfRange");
            if (r < 0) Fail(r, Message(name, r), name);
            var h = new MapHandle(p);
            if (OpenFlags(access) != 0) h = Reopen(name, h, name);
            var m = new MemoryMappedFile(name, null, h, false, access);
            WriteVerbose(Verb + ": " + (CreateOrOpen ? "created or opened" : "created") + " /dev/shm/" + name + ", " +
                         m.Capacity + " bytes of capacity, " + access + ", mode " +
                         (UnixFileMode != null ? UnixFileMode.ToString() : "0600 (owner only)") +
                         ", removed when its last holder is gone");
            return m;
        }

        // A handle without write access: open one, then let the creating one
        // go (the map stays: the new handle holds it).
        MapHandle Reopen(string name, MapHandle h, string label) {
            IntPtr ro;
            int r = Native.mmf_open(name, Native.ReadOnly, out ro);
            h.Dispose();
            if (r < 0) Fail(r, Message(label, r), label);
            return new MapHandle(ro);
        }

        MemoryMappedFile FromStream(MemoryMappedFileAccess access) {
            string full = FileStream.Name;
            if (!ShouldProcess(full, "Map file stream")) return null;
            bool writable = OpenFlags(access) == 0;
            if (!writable && Size > FileStream.Length)
                FailRange("Size", Verb + " " + full + ": -Size " + Size + " is larger than the file (" + FileStream.Length +
                          " bytes), which a map without write access cannot extend", FileStream, "SizeOutOfRange");
            try {
                if (writable && FileStream.Length < Size) FileStream.SetLength(Size);
                FileStream.Flush();
            } catch (Exception e) {
                Fail(-Native.ENOSPC, Verb + " " + full + ": cannot extend the file to " + Size + " bytes: " + e.Message, FileStream);
            }
            var m = FromPath(full, FileMode.Open, Size, access, Name.Value);
            if (m != null && !leaveOpen) m.OwnStream(FileStream);
            return m;
        }

        // The -Path and -FileStream sets.
        MemoryMappedFile FromPath(string full, FileMode mode, long size, MemoryMappedFileAccess access, string name) {
            int ro = OpenFlags(access);
            bool exists = File.Exists(full) || Directory.Exists(full);
            if ((mode == FileMode.CreateNew || mode == FileMode.Create || (mode == FileMode.Truncate && exists) ||
                 (!exists && (mode == FileMode.OpenOrCreate || mode == FileMode.Append))) && size <= 0)
                FailArgument(Verb + " " + full + ": FileMode " + mode + " creates a map: give its capacity with -Size", full, "SizeRequired");
            if (Directory.Exists(full)) Fail(-Native.EISDIR, Message(full, -Native.EISDIR, true), full, true);
            // The name first, so that a name in use leaves no file behind.
            MapHandle alias = name != null ? NameFor(name) : null;
            IntPtr p = IntPtr.Zero;
            int r = 0;
            bool created = false;
            switch (mode) {
            case FileMode.Open:
                if (!exists) { r = -Native.ENOENT; break; }
                r = Native.mmf_open(full, ro, out p);
                if (r == -Native.ENOTMMF)
                    r = Native.mmf_map_file(full, access == MemoryMappedFileAccess.CopyOnWrite ? Native.Private : ro, out p);
                break;
            case FileMode.CreateNew:
                r = Native.mmf_create(full, (UIntPtr)(ulong)size, 0, ModeBits, out p);
                created = true;
                break;
            case FileMode.Create:
            case FileMode.Truncate:
                if (mode == FileMode.Truncate && !exists) { r = -Native.ENOENT; break; }
                if (exists && (r = Replace(full, alias)) < 0) break;
                r = Native.mmf_create(full, (UIntPtr)(ulong)size, 0, ModeBits, out p);
                created = true;
                break;
            default: // OpenOrCreate, Append
                if (exists) {
                    r = Native.mmf_open(full, ro, out p);
                    if (r == -Native.ENOTMMF) r = Native.mmf_map_file(full, ro, out p);
                } else {
                    r = Native.mmf_create(full, (UIntPtr)(ulong)size, Native.OpenExisting, ModeBits, out p);
                    created = true;
                }
                break;
            }
            if (r < 0) {
                if (alias != null) alias.Dispose();
                if (r == -Native.ETOOBIG && created) FailRange("Size", Message(full, r, true), size, "SizeOutOfRange");
                Fail(r, Message(full, r, true), full, true);
            }
            var h = new MapHandle(p);
            if (created && ro != 0) {
                try { h = Reopen(full, h, full); }
                catch { if (alias != null) alias.Dispose(); throw; }
            }
            var m = new MemoryMappedFile(name ?? full, full, h, true, access, alias);
            if (mode == FileMode.Append) m.AppendMode = true;
            if (alias != null) {
                byte[] target = Encoding.UTF8.GetBytes(full);
                byte[] content = new byte[AliasMagic.Length + target.Length];
                AliasMagic.CopyTo(content, 0);
                target.CopyTo(content, AliasMagic.Length);
                Native.mmf_write(alias, content, (UIntPtr)(ulong)content.Length);
            }
            WriteVerbose(Verb + ": mapped " + full + " (" + mode + ", " + m.Kind + ", " + m.Capacity + " bytes)" +
                         (name != null ? ", named " + name : ""));
            return m;
        }

        // The map that names a file: a transient map in /dev/shm whose content
        // is AliasMagic and the file's path.  It goes when the last process
        // that holds the file through that name is gone, however it ends.
        internal static readonly byte[] AliasMagic = Encoding.ASCII.GetBytes("\0mmf-file-name\0");
        MapHandle NameFor(string name) {
            IntPtr p;
            int r = Native.mmf_create(name, (UIntPtr)4096u, Native.Transient, 0, out p);
            if (r == -Native.EEXIST)
                Fail(r, Verb + " " + name + ": the name is taken in /dev/shm; pick another -Name", name);
            if (r < 0) Fail(r, Message(name, r), name);
            return new MapHandle(p);
        }

        // Create and Truncate replace an existing file, but not a map that
        // processes hold: their writes would go to a file nobody sees.
        int Replace(string full, MapHandle alias) {
            Info info;
            int r = Native.InfoOf(full, out info);
            if (r == 0 && info.kind == 0 && info.holders > 0) {
                if (alias != null) alias.Dispose();
                Fail(-Native.EBUSY, Verb + " " + full + ": the map is in use by " + info.holders +
                     " handle(s); close them first, or use -FileMode Open", full, true);
            }
            r = Native.mmf_remove(full);
            if (r == -Native.ENOTMMF) {
                try { File.Delete(full); r = 0; }
                catch (UnauthorizedAccessException) { r = -Native.EACCES; }
                catch (IOException) { r = -Native.EACCES; }
            }
            return r == -Native.ENOENT ? 0 : r;
        }
    }
}
