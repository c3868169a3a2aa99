// SPDX-License-Identifier: MIT
// The module's cmdlets.  They are compiled cmdlets, as the original's are:
// PowerShell binds positional arguments to a compiled cmdlet by type, trying
// each parameter set in turn, which is what lets
// "New-MemoryMappedFile ./f CreateNew X 4096" and "New-MemoryMappedFile
// Test 1024" both find their set.  Map names and paths have types of their
// own (MapName, PathArgument) for the same reason: a string must be
// converted to either, and a string with '/' is no map name.
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Management.Automation;
using System.Text;

namespace Mmf {
    // A map's name: any string without '/' (libmmf checks the rest).
    public sealed class MapName {
        public string Value { get; private set; }
        public MapName(string s) {
            s = Plain(s);
            if (string.IsNullOrEmpty(s))
                throw new ArgumentException("a map name cannot be empty");
            if (s.Contains("/"))
                throw new ArgumentException("'" + s + "' is not a map name (a name has no '/'); a file is mapped with -Path");
            Value = s;
        }
        public override string ToString() { return Value; }

        // Windows' session namespaces mean nothing here: "Global\X" and
        // "Local\X" are the map X.
        public static string Plain(string s) {
            if (s == null) return s;
            foreach (var ns in new[] { "Global\\", "Local\\" })
                if (s.StartsWith(ns, StringComparison.OrdinalIgnoreCase)) return s.Substring(ns.Length);
            return s;
        }
    }

    // A file's path, as typed (resolved against the current location).
    public sealed class PathArgument {
        public string Value { get; private set; }
        public PathArgument(string s) {
            if (string.IsNullOrEmpty(s)) throw new ArgumentException("a path cannot be empty");
            Value = s;
        }
        public override string ToString() { return Value; }
    }

    public abstract class MmfCmdlet : PSCmdlet {
        static readonly Dictionary<int, ErrorCategory> Categories = new Dictionary<int, ErrorCategory> {
            { Native.ENOENT, ErrorCategory.ObjectNotFound },
            { Native.EEXIST, ErrorCategory.ResourceExists },
            { Native.EACCES, ErrorCategory.PermissionDenied },
            { Native.EPERM, ErrorCategory.PermissionDenied },
            { Native.EREADONLY, ErrorCategory.PermissionDenied },
            { Native.EOWNER, ErrorCategory.PermissionDenied },
            { Native.EINVAL, ErrorCategory.InvalidArgument },
            { Native.ENAME, ErrorCategory.InvalidArgument },
            { Native.ETOOBIG, ErrorCategory.LimitsExceeded },
            { Native.ENOSPC, ErrorCategory.ResourceUnavailable },
            { Native.ENOWATCHER, ErrorCategory.ResourceUnavailable },
            { Native.ENOTMMF, ErrorCategory.InvalidData },
            { Native.EVERSION, ErrorCategory.InvalidData },
            { Native.ECORRUPT, ErrorCategory.InvalidData },
            { Native.ELOOP, ErrorCategory.InvalidType },
            { Native.ENOTREG, ErrorCategory.InvalidType },
            { Native.ETIMEDOUT, ErrorCategory.OperationTimeout },
            { Native.ESTUCK, ErrorCategory.OperationTimeout },
        };

        protected string Verb { get { return MyInvocation.MyCommand.Name; } }

        // What went wrong, in the words the mmf command uses: "VERB NAME: what".
        protected string Message(string name, int code, long size = -1, ulong capacity = 0, bool file = false) {
            string what;
            switch (-code) {
            case Native.ENOENT:
                what = file ? "no such file; create one with -FileMode CreateNew or OpenOrCreate, -Name NAME and -Size SIZE"
                            : "no such map; create it with New-MemoryMappedFile -Name NAME -Size SIZE";
                break;
            case Native.EEXIST:
                what = file ? "the file exists; use -FileMode Open, OpenOrCreate or Create"
                            : "a map of that name exists; add -CreateOrOpen to open it";
                break;
            case Native.EACCES: what = "permission denied; the map's mode or owner does not let you in"; break;
            case Native.ENAME: what = "not a valid map name: use 1-255 letters, digits, '.', '_' or '-' (not first '.' or '-')"; break;
            case Native.EREADONLY: what = "the map is open without write access; nothing was written"; break;
            case Native.ETOOBIG:
                what = size >= 0 ? size + " bytes do not fit the " + capacity + "-byte capacity; nothing was written"
                     : Verb == "New-MemoryMappedFile" ? "the size is larger than a map can be (16 TiB)"
                     : Native.StrError(code);
                break;
            default: what = Native.StrError(code); break;
            }
            return Verb + " " + name + ": " + what;
        }

        // A non-terminating error: -ErrorAction and $ErrorActionPreference
        // decide what happens next, as with the original's cmdlets.
        protected void Fail(int code, string message, object target) {
            ErrorCategory cat;
            if (!Categories.TryGetValue(Math.Abs(code), out cat)) cat = ErrorCategory.InvalidOperation;
            WriteError(new ErrorRecord(new MmfException(code, message),
                "MemoryMappedFile" + Math.Abs(code) + "," + Verb, cat, target));
        }

        protected void FailArgument(string message, object target) {
            WriteError(new ErrorRecord(new ArgumentException(message), "InvalidArgument," + Verb,
                ErrorCategory.InvalidArgument, target));
        }

        // A reference on the handle of a map that is still open here (give it
        // back with m.Release()), or IntPtr.Zero after a non-terminating
        // error.
        protected IntPtr Acquire(MemoryMappedFile m) {
            IntPtr h = m.Acquire();
            if (h == IntPtr.Zero) {
                WriteError(new ErrorRecord(new ObjectDisposedException(null,
                    Verb + " " + m.Name + ": the map was already removed from this process"),
                    "MapDisposed," + Verb, ErrorCategory.InvalidOperation, m));
            }
            return h;
        }

        protected string FullPath(string path) {
            return SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        }

        // The object for a handle: .NET's type name first in its type names,
        // so that formatting and type-name tests written for the original
        // still work.
        protected static PSObject Wrap(MemoryMappedFile m) {
            var o = PSObject.AsPSObject(m);
            o.TypeNames.Insert(0, "System.IO.MemoryMappedFiles.MemoryMappedFile");
            return o;
        }

        // .NET's access values on libmmf's open flags: execute access gives
        // no executable pages (content is never code; /dev/shm is often
        // mounted noexec).
        internal static int OpenFlags(MemoryMappedFileAccess a) {
            switch (a) {
            case MemoryMappedFileAccess.Read:
            case MemoryMappedFileAccess.ReadExecute:
            case MemoryMappedFileAccess.CopyOnWrite:
                return Native.ReadOnly;
            default:
                return 0;
            }
        }
    }

    [Cmdlet(VerbsCommon.New, "MemoryMappedFile", DefaultParameterSetName = "Default",
            SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType("System.IO.MemoryMappedFiles.MemoryMappedFile")]
    public sealed class NewMemoryMappedFileCommand : MmfCmdlet {
        // Declared in the order that positional binding needs: where two
        // parameters share a position, the first declared is tried first.
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 4, ParameterSetName = "CreateFromFileSet5", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "FileStreamSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("access")]
        public MemoryMappedFileAccess MemoryMappedFileAccess { get; set; } = MemoryMappedFileAccess.ReadWrite;

        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("options")]
        public MemoryMappedFileOptions MemoryMappedFileOptions { get; set; }

        [Parameter(Mandatory = true, Position = 4, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 4, ParameterSetName = "FileStreamSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("inheritability")]
        public HandleInheritability HandleInheritability { get; set; }

        // Position 2 in CreateFromFileSet4/5 too in the original; there it
        // would take "ReadWrite" in "New-MemoryMappedFile Test 1024
        // ReadWrite" as well: by name only in those sets.
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Default", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "CreateFromFileSet3", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = "CreateFromFileSet4", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = "CreateFromFileSet5", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "FileStreamSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("mapName")]
        public MapName Name { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "Default", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "CreateFromFileSet4", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 3, ParameterSetName = "CreateFromFileSet5", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "FileStreamSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("capacity")]
        [ValidateRange(1, long.MaxValue)]
        public long Size { get; set; }

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "FileModeSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet3", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet4", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "CreateFromFileSet5", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public PathArgument Path { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "FileModeSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "CreateFromFileSet3", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "CreateFromFileSet4", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "CreateFromFileSet5", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("mode")]
        public FileMode FileMode { get; set; } = FileMode.Open;

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "FileStreamSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public FileStream FileStream { get; set; }

        [Parameter(Position = 2, ParameterSetName = "Default", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Position = 3, ParameterSetName = "MemoryMappedFileAccessSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Position = 5, ParameterSetName = "MemoryMappedFileOptionSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public SwitchParameter CreateOrOpen { get; set; }

        [Parameter(Mandatory = true, Position = 5, ParameterSetName = "FileStreamSet", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public bool leaveOpen { get; set; }

        protected override void ProcessRecord() {
            string set = ParameterSetName;
            var access = MemoryMappedFileAccess;
            string label = Name != null ? Name.Value : Path != null ? Path.Value : FileStream != null ? FileStream.Name : "";
            if (access == MemoryMappedFileAccess.Write) {
                FailArgument(Verb + " " + label + ": -MemoryMappedFileAccess Write is not allowed (a map must be readable); use ReadWrite", access);
                return;
            }
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
            if (HandleInheritability == HandleInheritability.Inheritable) m.MakeInheritable();
            WriteObject(Wrap(m));
        }

        MemoryMappedFile CreateNamed(MemoryMappedFileAccess access) {
            string name = Name.Value;
            if (!ShouldProcess("/dev/shm/" + name, "Create memory-mapped file")) return null;
            // .NET's views are whole pages: a string of Size characters fits
            // even when its UTF-8 form is a little longer.  So is the capacity.
            ulong capacity = ((ulong)Size + 4095) / 4096 * 4096;
            int flags = Native.Transient | (CreateOrOpen ? Native.OpenExisting : 0);
            IntPtr h;
            int r = Native.mmf_create(name, (UIntPtr)capacity, flags, 0, out h);
            if (r < 0) { Fail(r, Message(name, r), name); return null; }
            if (OpenFlags(access) != 0 && (h = Reopen(name, h, name)) == IntPtr.Zero) return null;
            var m = new MemoryMappedFile(name, null, h, false, access);
            WriteVerbose(Verb + ": " + (CreateOrOpen ? "created or opened" : "created") + " /dev/shm/" + name + ", " +
                         m.Capacity + " bytes of capacity, " + access + ", owner-only, removed when its last holder is gone");
            return m;
        }

        // A handle without write access: open one, then let the creating one
        // go (the map stays: the new handle holds it).
        IntPtr Reopen(string name, IntPtr h, string label) {
            IntPtr ro;
            int r = Native.mmf_open(name, Native.ReadOnly, out ro);
            Native.mmf_close(h);
            if (r < 0) { Fail(r, Message(label, r), label); return IntPtr.Zero; }
            return ro;
        }

        MemoryMappedFile FromStream(MemoryMappedFileAccess access) {
            string full = FileStream.Name;
            if (!ShouldProcess(full, "Map file stream")) return null;
            bool writable = OpenFlags(access) == 0;
            if (!writable && Size > FileStream.Length) {
                FailArgument(Verb + " " + full + ": -Size " + Size + " is larger than the file (" + FileStream.Length +
                             " bytes), which a map without write access cannot extend", FileStream);
                return null;
            }
            try {
                if (writable && FileStream.Length < Size) FileStream.SetLength(Size);
                FileStream.Flush();
            } catch (Exception e) {
                Fail(-Native.ENOSPC, Verb + " " + full + ": cannot extend the file to " + Size + " bytes: " + e.Message, FileStream);
                return null;
            }
            var m = FromPath(full, FileMode.Open, Size, access, Name.Value);
            if (m != null && !leaveOpen) m.OwnedStream = FileStream;
            return m;
        }

        // The -Path and -FileStream sets: the map, or null after an error.
        MemoryMappedFile FromPath(string full, FileMode mode, long size, MemoryMappedFileAccess access, string name) {
            int ro = OpenFlags(access);
            bool exists = File.Exists(full) || Directory.Exists(full);
            if ((mode == FileMode.CreateNew || mode == FileMode.Create || (mode == FileMode.Truncate && exists) ||
                 (!exists && (mode == FileMode.OpenOrCreate || mode == FileMode.Append))) && size <= 0) {
                FailArgument(Verb + " " + full + ": FileMode " + mode + " creates a map: give its capacity with -Size", full);
                return null;
            }
            // The name first, so that a name in use leaves no file behind.
            IntPtr alias = IntPtr.Zero;
            if (name != null && (alias = NameFor(name)) == IntPtr.Zero) return null;
            IntPtr h = IntPtr.Zero;
            int r = 0;
            bool created = false;
            switch (mode) {
            case FileMode.Open:
                if (!exists) { r = -Native.ENOENT; break; }
                r = Native.mmf_open(full, ro, out h);
                if (r == -Native.ENOTMMF)
                    r = Native.mmf_map_file(full, access == MemoryMappedFileAccess.CopyOnWrite ? Native.Private : ro, out h);
                break;
            case FileMode.CreateNew:
                r = Native.mmf_create(full, (UIntPtr)(ulong)size, 0, 0, out h);
                created = true;
                break;
            case FileMode.Create:
            case FileMode.Truncate:
                if (mode == FileMode.Truncate && !exists) { r = -Native.ENOENT; break; }
                if (exists && (r = Replace(full)) < 0) break;
                r = Native.mmf_create(full, (UIntPtr)(ulong)size, 0, 0, out h);
                created = true;
                break;
            default: // OpenOrCreate, Append
                if (exists) {
                    r = Native.mmf_open(full, ro, out h);
                    if (r == -Native.ENOTMMF) r = Native.mmf_map_file(full, ro, out h);
                } else {
                    r = Native.mmf_create(full, (UIntPtr)(ulong)size, Native.OpenExisting, 0, out h);
                    created = true;
                }
                break;
            }
            if (r < 0) {
                if (alias != IntPtr.Zero) Native.mmf_close(alias);
                if (r != -Native.EBUSY) Fail(r, Message(full, r, file: true), full);
                return null;
            }
            if (created && ro != 0 && (h = Reopen(full, h, full)) == IntPtr.Zero) {
                if (alias != IntPtr.Zero) Native.mmf_close(alias);
                return null;
            }
            var m = new MemoryMappedFile(name ?? full, full, h, true, access);
            if (mode == FileMode.Append) m.AppendMode = true;
            if (alias != IntPtr.Zero) {
                byte[] target = Encoding.UTF8.GetBytes(full);
                byte[] content = new byte[AliasMagic.Length + target.Length];
                AliasMagic.CopyTo(content, 0);
                target.CopyTo(content, AliasMagic.Length);
                Native.mmf_write(alias, content, (UIntPtr)(ulong)content.Length);
                m.NameHandle = alias;
            }
            WriteVerbose(Verb + ": mapped " + full + " (" + mode + ", " + m.Kind + ", " + m.Capacity + " bytes)" +
                         (name != null ? ", named " + name : ""));
            return m;
        }

        // The map that names a file: a transient map in /dev/shm whose content
        // is AliasMagic and the file's path.  It goes when the last process
        // that holds the file through that name is gone, however it ends.
        internal static readonly byte[] AliasMagic = Encoding.ASCII.GetBytes("\0mmf-file-name\0");
        IntPtr NameFor(string name) {
            IntPtr alias;
            int r = Native.mmf_create(name, (UIntPtr)4096u, Native.Transient, 0, out alias);
            if (r == -Native.EEXIST) {
                Fail(r, Verb + " " + name + ": the name is taken in /dev/shm; pick another -Name", name);
                return IntPtr.Zero;
            }
            if (r < 0) { Fail(r, Message(name, r), name); return IntPtr.Zero; }
            return alias;
        }

        // Create and Truncate replace an existing file, but not a map that
        // processes hold: their writes would go to a file nobody sees.
        int Replace(string full) {
            Info info;
            int r = Native.InfoOf(full, out info);
            if (r == 0 && info.kind == 0 && info.holders > 0) {
                Fail(-Native.EBUSY, Verb + " " + full + ": the map is in use by " + info.holders +
                     " handle(s); close them first, or use -FileMode Open", full);
                return -Native.EBUSY;
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

    [Cmdlet(VerbsCommon.Open, "MemoryMappedFile", DefaultParameterSetName = "Default")]
    [OutputType("System.IO.MemoryMappedFiles.MemoryMappedFile")]
    public sealed class OpenMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Default", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "MemoryMappedFileRights", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "HandleInheritability", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("mapName")]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "MemoryMappedFileRights", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "HandleInheritability", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("desiredAccessRights")]
        public MemoryMappedFileRights MemoryMappedFileRights { get; set; } = MemoryMappedFileRights.ReadWrite;

        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "HandleInheritability", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("inheritability")]
        public HandleInheritability HandleInheritability { get; set; }

        protected override void ProcessRecord() {
            var rights = MemoryMappedFileRights;
            MemoryMappedFileAccess access =
                (rights & MemoryMappedFileRights.Write) != 0 ? MemoryMappedFileAccess.ReadWrite
                : rights == MemoryMappedFileRights.CopyOnWrite ? MemoryMappedFileAccess.CopyOnWrite
                : MemoryMappedFileAccess.Read;
            string name = MapName.Plain(Name), path;
            IntPtr h, alias;
            int r = OpenByName(name, OpenFlags(access), out h, out path, out alias);
            if (r < 0) { Fail(r, Message(name, r), name); return; }
            var m = new MemoryMappedFile(name, path, h, path != null, access);
            m.NameHandle = alias;
            if (HandleInheritability == HandleInheritability.Inheritable) m.MakeInheritable();
            WriteVerbose(Verb + ": opened " + name + " (" + m.Kind + ", " + access + (path != null ? ", the file " + path : "") + ")");
            WriteObject(Wrap(m));
        }

        // An mmf map; another program's object as raw bytes; or the file
        // that New-MemoryMappedFile -Path -Name gave this name, when the name
        // is the caller's or the file owner's (as the kernel's
        // protected_symlinks rule has it).  The name's map is kept open
        // with the file: the name lives while someone holds it.
        static int OpenByName(string name, int flags, out IntPtr h, out string path, out IntPtr alias) {
            path = null;
            alias = IntPtr.Zero;
            int r = Native.mmf_open(name, flags, out h);
            if (r == -Native.ENOTMMF) return Native.mmf_open(name, flags | Native.Raw, out h);
            if (r < 0 || name.Contains("/")) return r;
            string target = AliasTarget(h);
            if (target == null) return r;
            uint owner, towner;
            if (Native.OwnerOfFd(Native.mmf_fd(h), out owner) < 0 || Native.Owner(target, true, out towner) < 0 ||
                (owner != Native.GetEuid() && owner != towner)) {
                Native.mmf_close(h);
                h = IntPtr.Zero;
                return -Native.EACCES;
            }
            alias = h;
            r = Native.mmf_open(target, flags, out h);
            if (r == -Native.ENOTMMF) r = Native.mmf_map_file(target, flags & Native.ReadOnly, out h);
            if (r < 0) { Native.mmf_close(alias); alias = IntPtr.Zero; return r; }
            path = target;
            return r;
        }

        static string AliasTarget(IntPtr h) {
            var magic = NewMemoryMappedFileCommand.AliasMagic;
            Stat st = Native.StatOf(h);
            if (st.kind != 0 || (ulong)st.length <= (ulong)magic.Length || (ulong)st.length > 4096) return null;
            ulong seq;
            byte[] c = Native.Read(h, out seq);
            for (int i = 0; i < magic.Length; i++)
                if (c.Length <= i || c[i] != magic[i]) return null;
            return Encoding.UTF8.GetString(c, magic.Length, c.Length - magic.Length);
        }
    }

    [Cmdlet(VerbsData.Out, "MemoryMappedFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    public sealed class OutMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public MemoryMappedFile MemoryMappedFile { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("value")]
        [ValidateNotNullOrEmpty]
        public string String { get; set; }

        [Parameter(Position = 2, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public SwitchParameter Append { get; set; }

        protected override void ProcessRecord() {
            var m = MemoryMappedFile;
            IntPtr h = Acquire(m);
            if (h == IntPtr.Zero) return;
            try {
                bool append = Append || m.AppendMode;
                if (!ShouldProcess(m.Name, append ? "Append to memory-mapped file" : "Write memory-mapped file")) return;
                byte[] bytes = Encoding.UTF8.GetBytes(String);
                int r = append
                    ? Native.mmf_append(h, bytes, (UIntPtr)(ulong)bytes.Length, new byte[] { 10 }, (UIntPtr)1u)
                    : Native.mmf_write(h, bytes, (UIntPtr)(ulong)bytes.Length);
                if (r < 0) {
                    Fail(r, Message(m.Name, r, bytes.Length, r == -Native.ETOOBIG ? m.Capacity : 0), m);
                    return;
                }
                WriteVerbose(Verb + ": " + (append ? "appended " : "wrote ") + bytes.Length + " bytes to " + m.Name + " (seq " + m.Seq + ")");
            } finally {
                m.Release();
            }
        }
    }

    [Cmdlet(VerbsCommunications.Read, "MemoryMappedFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(string))]
    public sealed class ReadMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public MemoryMappedFile MemoryMappedFile { get; set; }

        // Beyond the original: follow the map as tail -f does.
        [Parameter]
        public SwitchParameter Follow { get; set; }

        [Parameter]
        public double TimeoutSeconds { get; set; } = -1;

        // The content, then each later one: only the appended text when it
        // extends the last one written out, the whole content (and a
        // warning) otherwise; until -TimeoutSeconds or Ctrl+C.
        void FollowMap(MemoryMappedFile m, IntPtr h) {
            var buf = new byte[1 << 16];
            ulong seq = 0, len = 0;
            bool first = true;
            var deadline = TimeoutSeconds < 0 ? DateTime.MaxValue : DateTime.UtcNow.AddSeconds(TimeoutSeconds);
            while (!Stopping) {
                UIntPtr got;
                ulong now;
                int r = Native.mmf_read_since(h, seq, (UIntPtr)len, buf, (UIntPtr)(ulong)buf.Length, out got, out now);
                if (r == -Native.ENOBUFS) {
                    if ((ulong)got > 0x7FFFFFC7) { Fail(-Native.ETOOBIG, Verb + " " + m.Name + ": a content too large for a .NET string", m); return; }
                    buf = new byte[(long)(ulong)got];
                    continue;
                }
                if (r < 0) { Fail(r, Message(m.Name, r), m); return; }
                bool whole = r == Native.ReadWhole || first;
                if (r == Native.ReadWhole && !first)
                    WriteWarning(Verb + " " + m.Name + ": the content was replaced (seq " + now + "); it follows whole (anything appended just before may be missed)");
                len = whole ? (ulong)got : len + (ulong)got;
                if (now != seq || first)
                    WriteObject(Encoding.UTF8.GetString(buf, 0, (int)(ulong)got));
                seq = now;
                first = false;
                // Wait in slices, so that Ctrl+C (Stopping) is seen.
                for (;;) {
                    if (Stopping) return;
                    double left = (deadline - DateTime.UtcNow).TotalMilliseconds;
                    if (left <= 0) return;
                    ulong newer;
                    r = Native.mmf_wait(h, seq, (int)Math.Min(left, 200), out newer);
                    if (r == 0) break;
                    if (r != -Native.ETIMEDOUT) { Fail(r, Message(m.Name, r), m); return; }
                }
            }
        }

        protected override void ProcessRecord() {
            var m = MemoryMappedFile;
            IntPtr h = Acquire(m);
            if (h == IntPtr.Zero) return;
            try {
                if (!ShouldProcess(m.Name, "Read memory-mapped file")) return;
                if (Follow) {
                    if (Native.StatOf(h).kind != 0) {
                        Fail(-Native.ERAW, Verb + " " + m.Name + ": -Follow needs an mmf map; this one is raw bytes", m);
                        return;
                    }
                    FollowMap(m, h);
                    return;
                }
                ulong seq;
                byte[] bytes;
                try {
                    bytes = Native.Read(h, out seq);
                } catch (MmfException e) {
                    Fail(e.Code, Message(m.Name, e.Code), m);
                    return;
                }
                string text = Encoding.UTF8.GetString(bytes);
                // A raw object or a file has no length: its trailing NULs are
                // the unwritten rest.
                if (Native.StatOf(h).kind != 0) text = text.TrimEnd('\0');
                WriteVerbose(Verb + ": read " + bytes.Length + " bytes of " + m.Name + " (seq " + seq + ")");
                WriteObject(text);
            } finally {
                m.Release();
            }
        }
    }

    [Cmdlet(VerbsCommon.Remove, "MemoryMappedFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class RemoveMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public MemoryMappedFile MemoryMappedFile { get; set; }

        protected override void ProcessRecord() {
            var m = MemoryMappedFile;
            if (!ShouldProcess(m.Name, "Remove memory-mapped file")) return;
            m.Dispose();
            WriteVerbose(Verb + ": released " + m.Name + (m.Persisted ? " (the file stays)" : ""));
        }
    }

    [Cmdlet(VerbsData.Save, "MemoryMappedFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class SaveMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public MemoryMappedFile MemoryMappedFile { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        protected override void ProcessRecord() {
            var m = MemoryMappedFile;
            IntPtr h = Acquire(m);
            if (h == IntPtr.Zero) return;
            try {
                string full = FullPath(Path);
                if (!ShouldProcess(full, "Save memory-mapped file " + m.Name)) return;
                int r = Native.mmf_save(h, full);
                if (r < 0) {
                    Fail(r, Verb + " " + m.Name + ": cannot save to '" + full + "': " + Native.StrError(r) + "; the file was not changed", full);
                    return;
                }
                WriteVerbose(Verb + ": saved " + m.Name + " to " + full);
            } finally {
                m.Release();
            }
        }
    }

    // ---- beyond the original module ----

    [Cmdlet(VerbsLifecycle.Wait, "MemoryMappedFile")]
    [OutputType(typeof(ulong))]
    public sealed class WaitMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public MemoryMappedFile MemoryMappedFile { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public ulong After { get; set; }

        [Parameter]
        public double TimeoutSeconds { get; set; } = -1;

        protected override void ProcessRecord() {
            var m = MemoryMappedFile;
            IntPtr h = Acquire(m);
            if (h == IntPtr.Zero) return;
            try {
                ulong from = MyInvocation.BoundParameters.ContainsKey("After") ? After : m.Seq;
                int ms = TimeoutSeconds < 0 ? -1 : (int)Math.Min(int.MaxValue, Math.Ceiling(TimeoutSeconds * 1000));
                ulong seq;
                int r = Native.mmf_wait(h, from, ms, out seq);
                if (r == -Native.ETIMEDOUT) {
                    Fail(r, Verb + " " + m.Name + ": no content newer than seq " + from + " within the timeout", m);
                    return;
                }
                if (r < 0) { Fail(r, Message(m.Name, r), m); return; }
                WriteObject(seq);
            } finally {
                m.Release();
            }
        }
    }

    [Cmdlet(VerbsCommon.Get, "MemoryMappedFile")]
    [OutputType("Mmf.MapInfo")]
    public sealed class GetMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        public string Name { get; set; } = "*";

        protected override void ProcessRecord() {
            Info[] all;
            try { all = Native.List(); }
            catch (MmfException e) { Fail(e.Code, Message("/dev/shm", e.Code), "/dev/shm"); return; }
            var pattern = new WildcardPattern(Name);
            foreach (var f in all) {
                if (!pattern.IsMatch(f.Name)) continue;
                var o = new PSObject();
                o.TypeNames.Insert(0, "Mmf.MapInfo");
                o.Properties.Add(new PSNoteProperty("Name", f.Name));
                o.Properties.Add(new PSNoteProperty("Kind", f.kind == 0 ? "mmf" : f.kind == 1 ? "raw" : "file"));
                o.Properties.Add(new PSNoteProperty("Capacity", (ulong)f.capacity));
                o.Properties.Add(new PSNoteProperty("Length", (ulong)f.length));
                o.Properties.Add(new PSNoteProperty("Seq", f.seq));
                o.Properties.Add(new PSNoteProperty("Mode", Convert.ToString(f.mode, 8).PadLeft(4, '0')));
                o.Properties.Add(new PSNoteProperty("Owner", f.owner));
                o.Properties.Add(new PSNoteProperty("Transient", f.transient != 0));
                o.Properties.Add(new PSNoteProperty("Holders", f.holders));
                o.Properties.Add(new PSNoteProperty("LockPid", f.lock_pid));
                o.Properties.Add(new PSNoteProperty("Error", f.error != 0 ? Native.StrError(f.error) : null));
                WriteObject(o);
            }
        }
    }
}
