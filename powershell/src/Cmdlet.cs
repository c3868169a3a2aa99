// SPDX-License-Identifier: MIT
// What the cmdlets share: the argument types that steer positional binding,
// the map-name completer, and errors.  A failure is a statement-terminating
// error (ThrowTerminatingError), as the original's .NET exceptions are:
// try/catch catches it without -ErrorAction Stop, as the .NET exception type
// .NET throws for the same failure, with a category and a readable ErrorId.
// -ErrorAction SilentlyContinue or Ignore on the command make it a silent
// non-terminating error instead (PowerShell itself lets -ErrorAction decide
// only non-terminating errors), which is what a script that writes them
// means.
using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Runtime.InteropServices;

namespace Mmf {
    // What a blocking cmdlet waits on beside its maps (mmf_wait_any's
    // cancel descriptor): an eventfd that StopProcessing (Ctrl+C,
    // PowerShell.Stop()) and a Dispose() of any of the maps make readable,
    // so that the wait ends at once, not at its timeout.
    internal sealed class CancelFd : IDisposable {
        [DllImport("libc", SetLastError = true)] static extern int eventfd(uint initval, int flags);
        [DllImport("libc", SetLastError = true)] static extern IntPtr write(int fd, ref ulong v, UIntPtr n);
        [DllImport("libc")] static extern int close(int fd);
        const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
        int fd;

        internal CancelFd() {
            fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (fd < 0) throw new MmfException(-Marshal.GetLastWin32Error());
        }
        internal int Fd { get { return fd; } }
        internal void Signal() {
            lock (this) {
                ulong one = 1;
                if (fd >= 0) write(fd, ref one, (UIntPtr)8u);
            }
        }
        public void Dispose() {
            lock (this) { if (fd >= 0) close(fd); fd = -1; }
        }
    }

    // A map's name: anything but '/', '\' and NUL (libmmf checks the rest).
    // Compiled cmdlets bind positional arguments by type, trying each set in
    // turn: a string with '/' is no map name, so it goes to -Path.
    public sealed class MapName {
        public string Value { get; private set; }
        public MapName(string s) {
            s = Plain(s);
            // A string with '/' given by position must fail to bind, so that
            // positional binding gives it to -Path.  Given by name (or from
            // the pipeline) it binds, as every other bad name does, and the
            // cmdlet reports it as the ArgumentException (InvalidMapName) it
            // is, not as a ParameterBindingException.
            if (s != null && s.Contains("/") && BindingByPosition()) Check(s);
            try { Check(s); } catch (ArgumentException e) { Error = e.Message; }
            Value = s ?? "";
        }

        // Whether PowerShell's positional binding is converting the string
        // (it tries the next parameter set when a conversion fails; named
        // binding reports the failure).
        static bool BindingByPosition() {
            foreach (var f in new System.Diagnostics.StackTrace(false).GetFrames()) {
                var m = f.GetMethod();
                if (m != null && m.Name.StartsWith("BindPositionalParameters", StringComparison.Ordinal) &&
                    m.DeclaringType != null && m.DeclaringType.Namespace == "System.Management.Automation")
                    return true;
            }
            return false;
        }
        internal string Error { get; private set; }
        public override string ToString() { return Value; }

        internal static void Check(string s) {
            if (string.IsNullOrEmpty(s))
                throw new ArgumentException("a map name cannot be empty");
            if (s.Contains("/"))
                throw new ArgumentException("'" + s + "' is not a map name (a name has no '/'); a file is mapped with -Path");
            if (s.Contains("\\"))
                throw new ArgumentException("'" + s + "' is not a map name: a name has no '\\' (as with .NET)");
            if (s.Contains("\0"))
                throw new ArgumentException("a map name has no NUL character");
        }

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

    // Permission bits, as chmod takes them: '0640' or 640 (an integer is read
    // as octal digits, since PowerShell reads 0640 as the number 640), or an
    // [IO.UnixFileMode] value.
    public sealed class UnixMode {
        public uint Value { get; private set; }
        public UnixMode(string s) {
            s = (s ?? "").Trim();
            if (s.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) s = s.Substring(2);
            uint v = 0;
            if (s.Length == 0 || s.Length > 4) Bad(s);
            foreach (char c in s) { if (c < '0' || c > '7') Bad(s); v = v * 8 + (uint)(c - '0'); }
            if (v > 0x1FF) Bad(s);
            Value = v;
        }
        public UnixMode(long digits) : this(digits.ToString(System.Globalization.CultureInfo.InvariantCulture)) { }
        public UnixMode(UnixFileMode m) {
            if (((int)m & ~0x1FF) != 0) throw new ArgumentException("-UnixFileMode takes permission bits only (rwx for user, group and others)");
            Value = (uint)m;
        }
        static void Bad(string s) {
            throw new ArgumentException("'" + s + "' is not a mode: give octal permission bits, as chmod takes them (0600, 0640, 0666), or an [IO.UnixFileMode] value");
        }
        public override string ToString() { return "0" + Convert.ToString(Value, 8); }
    }

    // Tab completion of map names: the names in /dev/shm (mmf_list), quoted
    // where PowerShell needs it.
    public sealed class MapNameCompleter : IArgumentCompleter {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
            string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) {
            var results = new List<CompletionResult>();
            string typed = (wordToComplete ?? "").Trim('\'', '"');
            Info[] all;
            try { Native.Load(); all = Native.List(); } catch (Exception) { return results; }
            var names = new List<string>();
            foreach (var i in all) {
                string n = i.Name;
                if (n.StartsWith(typed, StringComparison.Ordinal)) names.Add(n);
            }
            names.Sort(StringComparer.Ordinal);
            foreach (var n in names) {
                results.Add(new CompletionResult(Quote(n), n, CompletionResultType.ParameterValue, n));
            }
            return results;
        }

        // A name as it must be typed: bare when PowerShell reads it back as
        // that string, else in single quotes.  A bare word that starts with
        // '-' is a parameter name, and one that starts with a digit, '.' or
        // '+' may be a number (1kb, 0x10, 1e3, 0123).
        public static string Quote(string n) {
            bool plain = n.Length > 0 && (char.IsLetter(n[0]) || n[0] == '_');
            foreach (char c in n) if (!(char.IsLetterOrDigit(c) || c == '.' || c == '_' || c == '-')) plain = false;
            return plain ? n : "'" + n.Replace("'", "''") + "'";
        }
    }

    public abstract class MmfCmdlet : PSCmdlet {
        protected string Verb { get { return MyInvocation.MyCommand.Name; } }

        // The .NET exception, category and ErrorId for a libmmf code.
        internal static ErrorRecord Record(int code, string message, object target, bool file = false) {
            Exception e;
            ErrorCategory cat;
            string id;
            switch (Math.Abs(code)) {
            case Native.ENOENT:
                if (file && MissingDirectory(target as string) != null) {
                    e = new DirectoryNotFoundException(message); cat = ErrorCategory.ObjectNotFound; id = "DirectoryNotFound"; break;
                }
                e = new FileNotFoundException(message); cat = ErrorCategory.ObjectNotFound; id = file ? "FileNotFound" : "MapNotFound"; break;
            case Native.EEXIST: e = new IOException(message); cat = ErrorCategory.ResourceExists; id = file ? "FileExists" : "MapExists"; break;
            case Native.EACCES:
            case Native.EPERM: e = new UnauthorizedAccessException(message); cat = ErrorCategory.PermissionDenied; id = "AccessDenied"; break;
            case Native.EREADONLY: e = new UnauthorizedAccessException(message); cat = ErrorCategory.PermissionDenied; id = "MapReadOnly"; break;
            case Native.EOWNER: e = new UnauthorizedAccessException(message); cat = ErrorCategory.PermissionDenied; id = "MapOwnedByAnotherUser"; break;
            case Native.EISDIR: e = new UnauthorizedAccessException(message); cat = ErrorCategory.InvalidType; id = "IsADirectory"; break;
            case Native.ENAME: e = new ArgumentException(message); cat = ErrorCategory.InvalidArgument; id = "InvalidMapName"; break;
            case Native.EINVAL: e = new ArgumentException(message); cat = ErrorCategory.InvalidArgument; id = "InvalidArgument"; break;
            case Native.ETOOBIG: e = new ArgumentOutOfRangeException(null, message); cat = ErrorCategory.LimitsExceeded; id = "ContentTooLarge"; break;
            case Native.EFBIG: e = new IOException(message); cat = ErrorCategory.LimitsExceeded; id = "FileTooLarge"; break;
            case Native.ENOSPC: e = new IOException(message); cat = ErrorCategory.ResourceUnavailable; id = "NoSpace"; break;
            case Native.ENOMEM: e = new IOException(message); cat = ErrorCategory.ResourceUnavailable; id = "OutOfMemory"; break;
            case Native.ENOWATCHER: e = new IOException(message); cat = ErrorCategory.ResourceUnavailable; id = "WatcherNotStarted"; break;
            case Native.ENOTMMF: e = new InvalidDataException(message); cat = ErrorCategory.InvalidData; id = "NotAMap"; break;
            case Native.EVERSION: e = new InvalidDataException(message); cat = ErrorCategory.InvalidData; id = "NewerFormat"; break;
            case Native.ECORRUPT: e = new InvalidDataException(message); cat = ErrorCategory.InvalidData; id = "MapCorrupt"; break;
            case Native.ELOOP: e = new IOException(message); cat = ErrorCategory.InvalidType; id = "SymbolicLink"; break;
            case Native.ENOTREG: e = new IOException(message); cat = ErrorCategory.InvalidType; id = "NotARegularFile"; break;
            case Native.ERAW: e = new InvalidOperationException(message); cat = ErrorCategory.InvalidOperation; id = "NotAnMmfMap"; break;
            case Native.EBUSY: e = new IOException(message); cat = ErrorCategory.ResourceBusy; id = "MapInUse"; break;
            case Native.ETIMEDOUT: e = new TimeoutException(message); cat = ErrorCategory.OperationTimeout; id = "Timeout"; break;
            case Native.ESTUCK: e = new TimeoutException(message); cat = ErrorCategory.OperationTimeout; id = "WriterStuck"; break;
            default: e = new IOException(message); cat = ErrorCategory.NotSpecified; id = "IOError"; break;
            }
            return new ErrorRecord(e, id, cat, target);
        }

        // The folder of a path when that folder does not exist (.NET throws
        // DirectoryNotFoundException for a file there), else null.
        internal static string MissingDirectory(string path) {
            if (string.IsNullOrEmpty(path)) return null;
            string dir = System.IO.Path.GetDirectoryName(path);
            return !string.IsNullOrEmpty(dir) && !Directory.Exists(dir) ? dir : null;
        }

        // Ends the command with the error (see the top of this file).
        protected void Stop(ErrorRecord record) {
            object ea;
            if (MyInvocation.BoundParameters.TryGetValue("ErrorAction", out ea) && ea is ActionPreference &&
                ((ActionPreference)ea == ActionPreference.SilentlyContinue || (ActionPreference)ea == ActionPreference.Ignore)) {
                WriteError(record);
                throw new PipelineStoppedQuietly();
            }
            ThrowTerminatingError(record);
        }

        protected void Fail(int code, string message, object target, bool file = false) {
            Stop(Record(code, message, target, file));
        }

        protected void FailArgument(string message, object target, string id = "InvalidArgument") {
            Stop(new ErrorRecord(new ArgumentException(message), id, ErrorCategory.InvalidArgument, target));
        }

        protected void FailRange(string param, string message, object target, string id) {
            Stop(new ErrorRecord(new ArgumentOutOfRangeException(param, message), id, ErrorCategory.InvalidArgument, target));
        }

        // A map that is still open here.
        protected void CheckOpen(MemoryMappedFile m) {
            if (m.IsDisposed)
                Stop(new ErrorRecord(new ObjectDisposedException(null, Verb + " " + m.Name + ": the map was already removed from this process"),
                    "MapDisposed", ErrorCategory.InvalidOperation, m));
        }

        // -TimeoutSeconds: 0 or more (0 only checks); left out, no limit.
        protected void CheckTimeout(double t, bool given) {
            if (given && (double.IsNaN(t) || t < 0))
                FailRange("TimeoutSeconds", Verb + ": -TimeoutSeconds must be 0 or more seconds (it is " + t +
                          "); leave it out to wait without limit", t, "TimeoutOutOfRange");
        }

        // The map a command was given, to name it in an error.
        string BoundMapName() {
            object v;
            if (!MyInvocation.BoundParameters.TryGetValue("MemoryMappedFile", out v)) return null;
            var m = v as MemoryMappedFile ?? (v is MemoryMappedFile[] a && a.Length > 0 ? a[0] : null);
            return m != null ? m.Name : null;
        }

        // An error that the silenced path of Stop() uses to end the record
        // without a second message; the cmdlets catch it in ProcessRecord.
        internal sealed class PipelineStoppedQuietly : Exception { }

        protected override void ProcessRecord() {
            try {
                Process();
            } catch (PipelineStoppedQuietly) {
            } catch (MmfException e) {
                // The library's own words, for a failure the cmdlet did not word.
                try { Fail(e.Code, Verb + ": " + e.Message, null); } catch (PipelineStoppedQuietly) { }
            } catch (ObjectDisposedException e) {
                try {
                    string name = BoundMapName();
                    Stop(new ErrorRecord(new ObjectDisposedException(null, Verb + (name != null ? " " + name : "") + ": the map was already removed from this process"),
                        "MapDisposed", ErrorCategory.InvalidOperation, name ?? e.ObjectName));
                } catch (PipelineStoppedQuietly) { }
            }
        }

        protected abstract void Process();

        // The wait in progress, for StopProcessing.
        CancelFd cancel;
        readonly object cancelLock = new object();

        protected override void StopProcessing() {
            lock (cancelLock) if (cancel != null) cancel.Signal();
        }

        // Waits until one of the maps holds a content newer than its entry
        // of from (ms -1: without limit): 0 and the first such map's index
        // and seq, or -ETIMEDOUT, or a libmmf error.  Stop ends the command
        // (PipelineStoppedException); a Dispose() of one of the maps, in any
        // runspace, ends it with ObjectDisposedException naming the map.
        internal int WaitMaps(MemoryMappedFile[] maps, ulong[] from, int ms, out int index, out ulong seq) {
            int n = maps.Length;
            var raw = new IntPtr[n];
            var added = new bool[n];
            var c = new CancelFd();
            lock (cancelLock) cancel = c;
            try {
                for (int i = 0; i < n; i++) {
                    maps[i].AddWaiter(c);
                    CheckOpen(maps[i]);
                    maps[i].Handle.DangerousAddRef(ref added[i]);
                    raw[i] = maps[i].Handle.DangerousGetHandle();
                }
                if (Stopping) throw new PipelineStoppedException();
                UIntPtr at;
                int r = Native.mmf_wait_any(raw, from, (UIntPtr)n, c.Fd, ms, out at, out seq);
                index = (int)(ulong)at;
                if (r == -Native.ECANCELED) {
                    if (Stopping) throw new PipelineStoppedException();
                    foreach (var m in maps) CheckOpen(m);
                }
                return r;
            } finally {
                for (int i = 0; i < n; i++) {
                    if (added[i]) maps[i].Handle.DangerousRelease();
                    maps[i].RemoveWaiter(c);
                }
                lock (cancelLock) cancel = null;
                c.Dispose();
            }
        }

        // What went wrong, in the words the mmf command uses: "VERB NAME: what".
        protected string Message(string name, int code, bool file = false) {
            string what;
            switch (-code) {
            case Native.ENOENT:
                string dir = file ? MissingDirectory(name) : null;
                what = dir != null ? "no such directory: " + dir
                     : file ? "no such file; create one with -FileMode CreateNew or OpenOrCreate, -Name NAME and -Size SIZE"
                            : "no such map; create it with New-MemoryMappedFile -Name NAME -Size SIZE";
                break;
            case Native.EEXIST:
                what = file ? "the file exists; use -FileMode Open, OpenOrCreate or Create"
                            : "a map of that name exists; add -CreateOrOpen to open it";
                break;
            case Native.EACCES: what = "permission denied; the map's mode or owner does not let you in"; break;
            case Native.ENAME: what = Native.StrError(code); break;
            case Native.EREADONLY: what = "the map is open without write access; nothing was written"; break;
            case Native.EISDIR: what = "is a directory, not a file"; break;
            case Native.ETOOBIG:
                what = Verb == "New-MemoryMappedFile" ? "the size is larger than a map can be (16 TiB)" : Native.StrError(code);
                break;
            default: what = Native.StrError(code); break;
            }
            return Verb + " " + name + ": " + what;
        }

        protected string FullPath(string path) {
            return SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        }

        // The object for a handle: .NET's type name first in its type names,
        // so that formatting and type-name tests written for the original
        // still work.
        protected static PSObject Wrap(MemoryMappedFile m) {
            var o = PSObject.AsPSObject(m);
            if (o.TypeNames[0] != "System.IO.MemoryMappedFiles.MemoryMappedFile")
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
}
