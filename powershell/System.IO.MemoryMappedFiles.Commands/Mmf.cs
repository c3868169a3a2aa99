// SPDX-License-Identifier: MIT
// The module's binding of libmmf: the calls it makes, the public structs as
// mmf.h declares them (tests/powershell checks every field's offset against
// the compiler's), and the object New- and Open-MemoryMappedFile return.
using System;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mmf {
    // struct mmf_stat
    [StructLayout(LayoutKind.Sequential)]
    public struct Stat {
        public UIntPtr capacity;
        public UIntPtr length;
        public ulong seq;
        public int raw;
        public int kind;
        public int @readonly;
        public int transient;
        public uint holders;
        public int lock_pid;
        public ulong object_size;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 6)]
        public ulong[] reserved_;
    }

    // struct mmf_info
    [StructLayout(LayoutKind.Sequential)]
    public struct Info {
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 256)]
        public byte[] name;
        public int kind;
        public int error;
        public UIntPtr capacity;
        public UIntPtr length;
        public ulong seq;
        public ulong object_size;
        public uint mode;
        public uint owner;
        public uint group;
        public long mtime_ns;
        public long ctime_ns;
        public int transient;
        public uint holders;
        public int lock_pid;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 6)]
        public ulong[] reserved_;

        public string Name {
            get {
                int n = Array.IndexOf(name, (byte)0);
                return System.Text.Encoding.UTF8.GetString(name, 0, n < 0 ? name.Length : n);
            }
        }
    }

    public static class Native {
        const string Lib = "libmmf.so.1";
        public const int OpenExisting = 1, Raw = 2, ReadOnly = 4, Private = 8, Transient = 16;
        public const int EPERM = 1, ENOENT = 2, EACCES = 13, EEXIST = 17, EINVAL = 22, ENOSPC = 28,
            ELOOP = 40, ENOBUFS = 105, ETIMEDOUT = 110;
        public const int ENAME = 4001, ENOTMMF = 4002, EVERSION = 4003, ECORRUPT = 4004,
            ETOOBIG = 4005, ERAW = 4006, ESTUCK = 4007, EREADONLY = 4010, ENOTREG = 4011,
            EOWNER = 4012, ENOWATCHER = 4013;

        [DllImport(Lib)] public static extern int mmf_create([MarshalAs(UnmanagedType.LPUTF8Str)] string name, UIntPtr capacity, int flags, uint mode, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_open([MarshalAs(UnmanagedType.LPUTF8Str)] string name, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_map_file([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern void mmf_close(IntPtr m);
        [DllImport(Lib)] public static extern int mmf_remove([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
        [DllImport(Lib)] public static extern int mmf_write(IntPtr m, byte[] data, UIntPtr len);
        [DllImport(Lib)] public static extern int mmf_append(IntPtr m, byte[] data, UIntPtr len, byte[] sep, UIntPtr sepLen);
        [DllImport(Lib)] public static extern int mmf_read(IntPtr m, byte[] buf, UIntPtr cap, out UIntPtr len, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_save(IntPtr m, [MarshalAs(UnmanagedType.LPUTF8Str)] string path);
        [DllImport(Lib)] public static extern int mmf_stat(IntPtr m, ref Stat st);
        [DllImport(Lib)] public static extern IntPtr mmf_data(IntPtr m);
        [DllImport(Lib)] public static extern UIntPtr mmf_size(IntPtr m);
        [DllImport(Lib)] public static extern int mmf_fd(IntPtr m);
        [DllImport(Lib)] public static extern int mmf_wait(IntPtr m, ulong after, int timeoutMs, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_info([MarshalAs(UnmanagedType.LPUTF8Str)] string name, IntPtr info);
        [DllImport(Lib)] public static extern int mmf_list(out IntPtr list, out UIntPtr count);
        [DllImport(Lib)] static extern IntPtr mmf_strerror(int code);
        [DllImport(Lib)] static extern IntPtr mmf_version();
        [DllImport("libc", EntryPoint = "free")] public static extern void Free(IntPtr p);
        [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)] static extern int fcntl(int fd, int cmd, int arg);
        [DllImport("libc", EntryPoint = "geteuid")] public static extern uint GetEuid();
        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buf);

        // The owner of path (of a symlink itself unless follow): statx,
        // whose layout is the same on every architecture (stx_uid at 20).
        public static int Owner(string path, bool follow, out uint uid) {
            const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
            const uint STATX_UID = 0x8;
            var buf = new byte[256];
            uid = 0;
            if (statx(AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW, STATX_UID, buf) < 0)
                return -Marshal.GetLastWin32Error();
            uid = BitConverter.ToUInt32(buf, 20);
            return 0;
        }

        public static string StrError(int code) { return Marshal.PtrToStringUTF8(mmf_strerror(code)); }
        public static string Version() { return Marshal.PtrToStringUTF8(mmf_version()); }

        // Let children inherit the descriptor (F_SETFD without FD_CLOEXEC).
        public static void Inherit(int fd) {
            const int F_SETFD = 2;
            if (fcntl(fd, F_SETFD, 0) < 0) throw new MmfException(-Marshal.GetLastWin32Error());
        }

        public static Stat StatOf(IntPtr m) {
            var st = new Stat();
            int r = mmf_stat(m, ref st);
            if (r < 0) throw new MmfException(r);
            return st;
        }

        // The content, whole: its length first, then a copy (again if it grew).
        public static byte[] Read(IntPtr m, out ulong seq) {
            byte[] buf = new byte[(long)(ulong)StatOf(m).length];
            for (;;) {
                UIntPtr len;
                int r = mmf_read(m, buf, (UIntPtr)(ulong)buf.Length, out len, out seq);
                if (r == -ENOBUFS) { buf = new byte[(long)(ulong)len]; continue; }
                if (r < 0) throw new MmfException(r);
                if ((ulong)len != (ulong)buf.Length) Array.Resize(ref buf, (int)(ulong)len);
                return buf;
            }
        }

        public static Info[] List() {
            IntPtr list; UIntPtr count;
            int r = mmf_list(out list, out count);
            if (r < 0) throw new MmfException(r);
            try {
                int size = Marshal.SizeOf<Info>();
                var all = new Info[(int)(ulong)count];
                for (int i = 0; i < all.Length; i++)
                    all[i] = Marshal.PtrToStructure<Info>(IntPtr.Add(list, i * size));
                return all;
            } finally {
                Free(list);
            }
        }
    }

    public class MmfException : IOException {
        public int Code { get; private set; }
        public MmfException(int code) : base(Native.StrError(code)) { Code = code; HResult = code; }
        public MmfException(int code, string message) : base(message) { Code = code; HResult = code; }
    }

    // The bytes of a raw map or a mapped file, for the .NET views over them.
    sealed class MapBuffer : SafeBuffer {
        public MapBuffer(IntPtr p, ulong len) : base(false) { SetHandle(p); Initialize(len); }
        protected override bool ReleaseHandle() { return true; }
    }

    // A view of a raw map or a file: the mapped bytes, in place.
    sealed class RawViewStream : UnmanagedMemoryStream {
        MemoryMappedFile map;
        internal RawViewStream(MemoryMappedFile m, SafeBuffer b, long off, long len, FileAccess a)
            : base(b, off, len, a) { map = m; }
        protected override void Dispose(bool disposing) {
            base.Dispose(disposing);
            if (map != null) { map.Release(); map = null; }
        }
    }

    sealed class RawViewAccessor : UnmanagedMemoryAccessor {
        MemoryMappedFile map;
        internal RawViewAccessor(MemoryMappedFile m, SafeBuffer b, long off, long len, FileAccess a)
            : base(b, off, len, a) { map = m; }
        protected override void Dispose(bool disposing) {
            base.Dispose(disposing);
            if (map != null) { map.Release(); map = null; }
        }
    }

    // A view of an mmf map is a transaction on a copy of its content: it sees
    // the content as it was when the view was made; what is written through
    // it is published, whole, by Flush() or Dispose().  A view opened
    // CopyOnWrite (or Read) never publishes.
    sealed class ContentViewStream : MemoryStream {
        MemoryMappedFile map;
        readonly byte[] snapshot;
        readonly long offset, windowLen;
        readonly bool publish;
        bool dirty;
        internal ContentViewStream(MemoryMappedFile m, byte[] content, long off, long size, bool canWrite, bool publish)
            : base() {
            map = m; snapshot = content; offset = off; this.publish = publish;
            windowLen = size > 0 ? size : Math.Max(0, content.LongLength - off);
            long have = Math.Max(0, Math.Min(windowLen, content.LongLength - off));
            base.Write(content, (int)Math.Min(off, content.LongLength), (int)have);
            if (size > have) base.SetLength(size);
            Position = 0;
            writable = canWrite;
        }
        readonly bool writable = true;
        public override bool CanWrite { get { return writable && base.CanWrite; } }
        void Check() { if (!CanWrite) throw new NotSupportedException("the view is read-only"); }
        public override void Write(byte[] b, int o, int n) { Check(); base.Write(b, o, n); dirty = true; }
        public override void Write(ReadOnlySpan<byte> b) { Check(); base.Write(b); dirty = true; }
        public override void WriteByte(byte b) { Check(); base.WriteByte(b); dirty = true; }
        public override void SetLength(long n) { Check(); base.SetLength(n); dirty = true; }
        public override void Flush() {
            if (dirty && publish && map != null) {
                map.Publish(Splice(snapshot, offset, windowLen, ToArray()));
                dirty = false;
            }
        }
        protected override void Dispose(bool disposing) {
            try { if (disposing) Flush(); }
            finally {
                if (map != null) { map.Release(); map = null; }
                base.Dispose(disposing);
            }
        }
        internal static byte[] Splice(byte[] whole, long off, long oldLen, byte[] window) {
            long tail = Math.Max(0, whole.LongLength - (off + oldLen));
            long pre = Math.Min(off, whole.LongLength);
            var r = new byte[off + window.LongLength + tail];
            Array.Copy(whole, 0, r, 0, pre);
            Array.Copy(window, 0, r, off, window.LongLength);
            if (tail > 0) Array.Copy(whole, off + oldLen, r, off + window.LongLength, tail);
            return r;
        }
    }

    sealed class ContentViewAccessor : UnmanagedMemoryAccessor {
        MemoryMappedFile map;
        readonly byte[] snapshot;
        readonly long offset, size;
        readonly bool publish;
        readonly IntPtr mem;
        ContentViewAccessor(MemoryMappedFile m, byte[] content, long off, long size, FileAccess a, bool publish, IntPtr mem, MapBuffer buf)
            : base(buf, 0, size, a) {
            map = m; snapshot = content; offset = off; this.size = size; this.publish = publish; this.mem = mem;
        }
        internal static ContentViewAccessor Make(MemoryMappedFile m, byte[] content, long off, long size, FileAccess a, bool publish) {
            IntPtr mem = Marshal.AllocHGlobal((IntPtr)Math.Max(size, 1));
            var window = new byte[size];
            long have = Math.Max(0, Math.Min(size, content.LongLength - off));
            if (have > 0) Array.Copy(content, off, window, 0, have);
            Marshal.Copy(window, 0, mem, (int)size);
            return new ContentViewAccessor(m, content, off, size, a, publish, mem, new MapBuffer(mem, (ulong)size));
        }
        // Publishes what was written, if anything: the content's length grows
        // to the last non-zero byte written past it.
        public void Flush() {
            if (!publish || map == null || !CanWrite) return;
            var window = new byte[size];
            Marshal.Copy(mem, window, 0, (int)size);
            long had = Math.Max(0, Math.Min(size, snapshot.LongLength - offset));
            long keep = had;
            for (long i = size - 1; i >= had; i--) if (window[i] != 0) { keep = i + 1; break; }
            bool same = keep == had;
            for (long i = 0; same && i < had; i++) same = window[i] == snapshot[offset + i];
            if (same) return;
            Array.Resize(ref window, (int)keep);
            map.Publish(ContentViewStream.Splice(snapshot, offset, had, window));
        }
        protected override void Dispose(bool disposing) {
            try { if (disposing) Flush(); }
            finally {
                base.Dispose(disposing);
                if (map != null) { map.Release(); map = null; Marshal.FreeHGlobal(mem); }
            }
        }
    }

    // What New- and Open-MemoryMappedFile return: one libmmf handle, with the
    // members of System.IO.MemoryMappedFiles.MemoryMappedFile that scripts use.
    public class MemoryMappedFile : IDisposable {
        IntPtr handle;
        int refs = 1; // the object itself, and each open view
        bool disposed;
        SafeMemoryMappedFileHandle safe;
        // The module's: /dev/shm/NAME, a link to the file (-Path -Name), and
        // the FileStream to dispose with the map (-leaveOpen $false).
        public string LinkPath { get; set; }
        public IDisposable OwnedStream { get; set; }

        public string Name { get; private set; }
        public string Path { get; private set; }
        public MemoryMappedFileAccess Access { get; private set; }
        public bool Persisted { get; private set; }
        public bool AppendMode { get; set; }
        public HandleInheritability Inheritability { get; private set; }

        public MemoryMappedFile(string name, string path, IntPtr h, bool persisted, MemoryMappedFileAccess access) {
            Name = name; Path = path; handle = h; Persisted = persisted; Access = access;
        }

        public IntPtr Handle {
            get { lock (this) { return disposed ? IntPtr.Zero : handle; } }
        }
        internal IntPtr Live() {
            lock (this) {
                if (disposed) throw new ObjectDisposedException(Name, "the map was already removed from this process");
                return handle;
            }
        }
        Stat St() { return Native.StatOf(Live()); }
        public string Kind { get { int k = St().kind; return k == 0 ? "mmf" : k == 1 ? "raw" : "file"; } }
        public ulong Capacity { get { return (ulong)St().capacity; } }
        public ulong Length { get { return (ulong)St().length; } }
        public ulong Seq { get { return St().seq; } }
        public bool ReadOnly { get { return St().@readonly != 0; } }
        public bool IsDisposed { get { lock (this) { return disposed; } } }

        // The descriptor of the map, as .NET's type; disposing it does not
        // close the map (Dispose() on the map does).
        public SafeMemoryMappedFileHandle SafeMemoryMappedFileHandle {
            get {
                lock (this) {
                    if (safe == null) {
                        safe = new SafeMemoryMappedFileHandle();
                        typeof(SafeHandle).GetMethod("SetHandle",
                            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
                            .Invoke(safe, new object[] { (IntPtr)Native.mmf_fd(Live()) });
                    }
                    return safe;
                }
            }
        }

        public void MakeInheritable() {
            Native.Inherit(Native.mmf_fd(Live()));
            Inheritability = HandleInheritability.Inheritable;
        }

        internal void Publish(byte[] content) {
            int r = Native.mmf_write(Live(), content, (UIntPtr)(ulong)content.LongLength);
            if (r < 0) throw new MmfException(r);
        }

        void AddRef() { lock (this) { if (disposed) throw new ObjectDisposedException(Name); refs++; } }
        internal void Release() {
            IntPtr h = IntPtr.Zero;
            lock (this) {
                if (--refs == 0) { h = handle; handle = IntPtr.Zero; }
            }
            if (h != IntPtr.Zero) Native.mmf_close(h);
        }

        FileAccess ViewAccess(MemoryMappedFileAccess a, out bool publish) {
            publish = false;
            switch (a) {
            case MemoryMappedFileAccess.Read:
            case MemoryMappedFileAccess.ReadExecute:
                return FileAccess.Read;
            case MemoryMappedFileAccess.CopyOnWrite:
                return FileAccess.ReadWrite;
            default:
                if (Access == MemoryMappedFileAccess.Read || Access == MemoryMappedFileAccess.ReadExecute ||
                    Access == MemoryMappedFileAccess.CopyOnWrite || ReadOnly)
                    throw new UnauthorizedAccessException(
                        "the map was opened without write access: ask for a Read or CopyOnWrite view");
                publish = true;
                return FileAccess.ReadWrite;
            }
        }

        MemoryMappedFileAccess DefaultViewAccess() {
            return Access == MemoryMappedFileAccess.Write ? MemoryMappedFileAccess.ReadWrite : Access;
        }

        public Stream CreateViewStream() { return CreateViewStream(0, 0, DefaultViewAccess()); }
        public Stream CreateViewStream(long offset, long size) { return CreateViewStream(offset, size, DefaultViewAccess()); }
        public Stream CreateViewStream(long offset, long size, MemoryMappedFileAccess access) {
            bool publish;
            FileAccess fa = ViewAccess(access, out publish);
            IntPtr h = Live();
            if (offset < 0 || size < 0) throw new ArgumentOutOfRangeException(offset < 0 ? "offset" : "size");
            Stat st = Native.StatOf(h);
            if (st.kind != 0) {
                ulong total = (ulong)st.capacity;
                if ((ulong)offset > total || (ulong)(offset + size) > total)
                    throw new ArgumentOutOfRangeException("size", "the view does not fit in the map's " + total + " bytes");
                long len = size > 0 ? size : (long)total - offset;
                if (access == MemoryMappedFileAccess.CopyOnWrite) {
                    // A private copy of the bytes: the map's memory is shared.
                    var copy = new byte[len];
                    if (len > 0) Marshal.Copy(IntPtr.Add(Native.mmf_data(h), (int)offset), copy, 0, (int)len);
                    return new MemoryStream(copy, true);
                }
                if (total == 0) return new MemoryStream(new byte[0], false);
                AddRef();
                return new RawViewStream(this, new MapBuffer(Native.mmf_data(h), total), offset, len, fa);
            }
            if ((ulong)(offset + size) > (ulong)st.capacity)
                throw new ArgumentOutOfRangeException("size", "the view does not fit the map's capacity of " + (ulong)st.capacity + " bytes");
            ulong seq;
            byte[] content = Native.Read(h, out seq);
            AddRef();
            return new ContentViewStream(this, content, offset, size, fa != FileAccess.Read, publish);
        }

        public UnmanagedMemoryAccessor CreateViewAccessor() { return CreateViewAccessor(0, 0, DefaultViewAccess()); }
        public UnmanagedMemoryAccessor CreateViewAccessor(long offset, long size) { return CreateViewAccessor(offset, size, DefaultViewAccess()); }
        public UnmanagedMemoryAccessor CreateViewAccessor(long offset, long size, MemoryMappedFileAccess access) {
            bool publish;
            FileAccess fa = ViewAccess(access, out publish);
            IntPtr h = Live();
            if (offset < 0 || size < 0) throw new ArgumentOutOfRangeException(offset < 0 ? "offset" : "size");
            Stat st = Native.StatOf(h);
            ulong total = (ulong)st.capacity;
            if ((ulong)offset > total || (ulong)(offset + size) > total)
                throw new ArgumentOutOfRangeException("size", "the view does not fit in the map's " + total + " bytes");
            long len = size > 0 ? size : (long)total - offset;
            if (st.kind != 0 && access != MemoryMappedFileAccess.CopyOnWrite) {
                if (total == 0) throw new ArgumentException("the map has no bytes to view");
                AddRef();
                return new RawViewAccessor(this, new MapBuffer(Native.mmf_data(h), total), offset, len, fa);
            }
            byte[] content;
            if (st.kind != 0) {
                content = new byte[total];
                if (total > 0) Marshal.Copy(Native.mmf_data(h), content, 0, (int)total);
            } else {
                ulong seq;
                content = Native.Read(h, out seq);
            }
            AddRef();
            return ContentViewAccessor.Make(this, content, offset, len, fa, publish && st.kind == 0);
        }

        public void Dispose() {
            lock (this) {
                if (disposed) return;
                disposed = true;
            }
            if (LinkPath != null) {
                // Our name for the file, if it still is ours.
                try {
                    var fi = new FileInfo(LinkPath);
                    if (fi.LinkTarget == Path) fi.Delete();
                } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            if (OwnedStream != null) OwnedStream.Dispose();
            Release();
            GC.SuppressFinalize(this);
        }

        public override string ToString() { return Name; }
    }
}
