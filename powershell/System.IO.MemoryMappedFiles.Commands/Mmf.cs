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
        public const int EPERM = 1, ENOENT = 2, EACCES = 13, EBUSY = 16, EEXIST = 17, EINVAL = 22, ENOSPC = 28,
            ELOOP = 40, ENOBUFS = 105, ETIMEDOUT = 110;
        public const int ENAME = 4001, ENOTMMF = 4002, EVERSION = 4003, ECORRUPT = 4004,
            ETOOBIG = 4005, ERAW = 4006, ESTUCK = 4007, EOVERTAKEN = 4009, EREADONLY = 4010, ENOTREG = 4011,
            EOWNER = 4012, ENOWATCHER = 4013;

        [DllImport(Lib)] public static extern int mmf_create([MarshalAs(UnmanagedType.LPUTF8Str)] string name, UIntPtr capacity, int flags, uint mode, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_open([MarshalAs(UnmanagedType.LPUTF8Str)] string name, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_map_file([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern void mmf_close(IntPtr m);
        [DllImport(Lib)] public static extern int mmf_remove([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
        [DllImport(Lib)] public static extern int mmf_write(IntPtr m, byte[] data, UIntPtr len);
        [DllImport(Lib)] public static extern int mmf_append(IntPtr m, byte[] data, UIntPtr len, byte[] sep, UIntPtr sepLen);
        [DllImport(Lib)] public static extern int mmf_read(IntPtr m, byte[] buf, UIntPtr cap, out UIntPtr len, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_read_since(IntPtr m, ulong seq, UIntPtr len, byte[] buf, UIntPtr cap, out UIntPtr retLen, out ulong retSeq);
        public const int ReadWhole = 2;
        [DllImport(Lib)] public static extern int mmf_write_at(IntPtr m, UIntPtr offset, byte[] data, UIntPtr len);
        [DllImport(Lib)] public static extern int mmf_read_begin(IntPtr m, out ReadView v);
        [DllImport(Lib)] public static extern int mmf_read_end(IntPtr m, ref ReadView v);
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
        public static int OwnerOfFd(int fd, out uint uid) {
            const int AT_EMPTY_PATH = 0x1000;
            const uint STATX_UID = 0x8;
            var buf = new byte[256];
            uid = 0;
            if (statx(fd, "", AT_EMPTY_PATH, STATX_UID, buf) < 0)
                return -Marshal.GetLastWin32Error();
            uid = BitConverter.ToUInt32(buf, 20);
            return 0;
        }

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
        // Beyond this, a .NET array (and a string) cannot hold the content.
        const ulong ArrayMax = 0x7FFFFFC7;
        static byte[] Buffer(ulong len) {
            if (len > ArrayMax)
                throw new MmfException(-ETOOBIG, "the content's " + len + " bytes are more than a .NET array holds; save it to a file with Save-MemoryMappedFile");
            return new byte[len];
        }

        public static byte[] Read(IntPtr m, out ulong seq) {
            byte[] buf = Buffer((ulong)StatOf(m).length);
            for (;;) {
                UIntPtr len;
                int r = mmf_read(m, buf, (UIntPtr)(ulong)buf.Length, out len, out seq);
                if (r == -ENOBUFS) { buf = Buffer((ulong)len); continue; }
                if (r < 0) throw new MmfException(r);
                if ((ulong)len != (ulong)buf.Length) Array.Resize(ref buf, (int)(ulong)len);
                return buf;
            }
        }

        public static int InfoOf(string name, out Info info) {
            IntPtr p = Marshal.AllocHGlobal(Marshal.SizeOf<Info>());
            try {
                int r = mmf_info(name, p);
                info = Marshal.PtrToStructure<Info>(p);
                return r;
            } finally {
                Marshal.FreeHGlobal(p);
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

    // struct mmf_read_view
    [StructLayout(LayoutKind.Sequential)]
    public struct ReadView {
        public IntPtr data;
        public UIntPtr len;
        public ulong seq;
        public ulong priv_0;
        public ulong priv_1;
    }

    // The bytes a view shows, live.
    abstract class ViewBytes {
        public abstract long Size { get; }
        public abstract void Read(long pos, byte[] b, int off, int n);
        public abstract void Write(long pos, byte[] b, int off, int n);
    }

    // A raw map or a mapped file: its bytes, in place.
    sealed class RawBytes : ViewBytes {
        readonly IntPtr p;
        readonly long size;
        public RawBytes(IntPtr p, long size) { this.p = p; this.size = size; }
        public override long Size { get { return size; } }
        public override void Read(long pos, byte[] b, int off, int n) {
            if (n > 0) Marshal.Copy(IntPtr.Add(p, checked((int)pos)), b, off, n);
        }
        public override void Write(long pos, byte[] b, int off, int n) {
            if (n > 0) Marshal.Copy(b, off, IntPtr.Add(p, checked((int)pos)), n);
        }
    }

    // An mmf map: its content, zero-padded to the capacity.  Each read
    // copies from the published content (again if a writer overtook it);
    // each write publishes the content with those bytes replaced
    // (mmf_write_at), so views in any process see every write and writers
    // of different bytes never undo each other.
    sealed class ContentBytes : ViewBytes {
        readonly IntPtr h;
        readonly long capacity;
        public ContentBytes(IntPtr h, long capacity) { this.h = h; this.capacity = capacity; }
        public override long Size { get { return capacity; } }
        public override void Read(long pos, byte[] b, int off, int n) {
            for (;;) {
                ReadView v;
                int r = Native.mmf_read_begin(h, out v);
                if (r < 0) throw new MmfException(r);
                long len = (long)(ulong)v.len;
                int have = (int)Math.Max(0, Math.Min(n, len - pos));
                if (have > 0) Marshal.Copy(IntPtr.Add(v.data, checked((int)pos)), b, off, have);
                Array.Clear(b, off + have, n - have);
                r = Native.mmf_read_end(h, ref v);
                if (r == 0) return;
                if (r != -Native.EOVERTAKEN) throw new MmfException(r);
            }
        }
        public override void Write(long pos, byte[] b, int off, int n) {
            byte[] part = b;
            if (off != 0 || n != b.Length) { part = new byte[n]; Array.Copy(b, off, part, 0, n); }
            int r = Native.mmf_write_at(h, (UIntPtr)(ulong)pos, part, (UIntPtr)(uint)n);
            if (r == -Native.EREADONLY) throw new UnauthorizedAccessException("the map is open without write access");
            if (r < 0) throw new MmfException(r);
        }
    }

    // A CopyOnWrite view: a copy of the bytes, the view's alone.
    sealed class PrivateBytes : ViewBytes {
        readonly byte[] copy;
        public PrivateBytes(byte[] copy) { this.copy = copy; }
        public override long Size { get { return copy.LongLength; } }
        public override void Read(long pos, byte[] b, int off, int n) { Array.Copy(copy, pos, b, off, n); }
        public override void Write(long pos, byte[] b, int off, int n) { Array.Copy(b, off, copy, pos, n); }
    }

    // A window [offset, offset + size) of a view's bytes, holding a reference
    // on the map: the map stays open while a view of it is.
    public abstract class ViewBase : IDisposable {
        MemoryMappedFile map;
        internal ViewBytes bytes;
        internal long offset, size;
        internal bool canWrite;
        internal void Init(MemoryMappedFile m, ViewBytes b, long off, long sz, bool w) {
            map = m; bytes = b; offset = off; size = sz; canWrite = w;
        }
        internal void CheckOpen() { if (map == null) throw new ObjectDisposedException("view"); }
        internal void CheckRange(long pos, long n) {
            if (pos < 0 || n < 0 || pos > size || n > size - pos)
                throw new ArgumentOutOfRangeException("position", "beyond the view's " + size + " bytes");
        }
        internal void Get(long pos, byte[] b, int off, int n) { CheckOpen(); CheckRange(pos, n); bytes.Read(offset + pos, b, off, n); }
        internal void Put(long pos, byte[] b, int off, int n) {
            CheckOpen();
            if (!canWrite) throw new NotSupportedException("the view is read-only");
            CheckRange(pos, n);
            bytes.Write(offset + pos, b, off, n);
        }
        internal void Close() {
            var m = map;
            map = null;
            if (m != null) m.Release();
        }
        public void Dispose() { Close(); GC.SuppressFinalize(this); }
    }

    // What CreateViewAccessor returns: the members of .NET's
    // MemoryMappedViewAccessor that scripts use, over the view's bytes.
    public sealed class ViewAccessor : ViewBase {
        public long Capacity { get { return size; } }
        public bool CanRead { get { return true; } }
        public bool CanWrite { get { return canWrite; } }
        public long PointerOffset { get { return offset; } }
        public void Flush() { CheckOpen(); }

        byte[] Take(long pos, int n) { var b = new byte[n]; Get(pos, b, 0, n); return b; }
        public bool ReadBoolean(long p) { return Take(p, 1)[0] != 0; }
        public byte ReadByte(long p) { return Take(p, 1)[0]; }
        public sbyte ReadSByte(long p) { return (sbyte)Take(p, 1)[0]; }
        public char ReadChar(long p) { return BitConverter.ToChar(Take(p, 2), 0); }
        public short ReadInt16(long p) { return BitConverter.ToInt16(Take(p, 2), 0); }
        public ushort ReadUInt16(long p) { return BitConverter.ToUInt16(Take(p, 2), 0); }
        public int ReadInt32(long p) { return BitConverter.ToInt32(Take(p, 4), 0); }
        public uint ReadUInt32(long p) { return BitConverter.ToUInt32(Take(p, 4), 0); }
        public long ReadInt64(long p) { return BitConverter.ToInt64(Take(p, 8), 0); }
        public ulong ReadUInt64(long p) { return BitConverter.ToUInt64(Take(p, 8), 0); }
        public float ReadSingle(long p) { return BitConverter.ToSingle(Take(p, 4), 0); }
        public double ReadDouble(long p) { return BitConverter.ToDouble(Take(p, 8), 0); }
        public int ReadArray(long p, byte[] array, int offset, int count) {
            int n = (int)Math.Max(0, Math.Min(count, size - p));
            Get(p, array, offset, n);
            return n;
        }

        void Give(long p, byte[] b) { Put(p, b, 0, b.Length); }
        public void Write(long p, bool v) { Give(p, new[] { (byte)(v ? 1 : 0) }); }
        public void Write(long p, byte v) { Give(p, new[] { v }); }
        public void Write(long p, sbyte v) { Give(p, new[] { (byte)v }); }
        public void Write(long p, char v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, short v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, ushort v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, int v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, uint v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, long v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, ulong v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, float v) { Give(p, BitConverter.GetBytes(v)); }
        public void Write(long p, double v) { Give(p, BitConverter.GetBytes(v)); }
        public void WriteArray(long p, byte[] array, int offset, int count) { Put(p, array, offset, count); }
    }

    // What CreateViewStream returns: a Stream over the view's bytes, with
    // the view's length (writes cannot go past it, as with .NET's).
    public sealed class ViewStream : Stream {
        readonly ViewAccessor v;
        long pos;
        internal ViewStream(ViewAccessor v) { this.v = v; }
        public override bool CanRead { get { return true; } }
        public override bool CanSeek { get { return true; } }
        public override bool CanWrite { get { return v.canWrite; } }
        public override long Length { get { return v.size; } }
        public long Capacity { get { return v.size; } }
        public long PointerOffset { get { return v.offset; } }
        public override long Position {
            get { return pos; }
            set { if (value < 0) throw new ArgumentOutOfRangeException("value"); pos = value; }
        }
        public override int Read(byte[] buffer, int offset, int count) {
            int n = (int)Math.Max(0, Math.Min(count, v.size - pos));
            if (n == 0) return 0;
            v.Get(pos, buffer, offset, n);
            pos += n;
            return n;
        }
        public override void Write(byte[] buffer, int offset, int count) {
            if (count > v.size - pos)
                throw new NotSupportedException("Unable to expand length of this stream beyond its capacity (" + v.size + " bytes).");
            v.Put(pos, buffer, offset, count);
            pos += count;
        }
        public override long Seek(long offset, SeekOrigin origin) {
            long p = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? pos + offset : v.size + offset;
            Position = p;
            return p;
        }
        public override void SetLength(long value) { throw new NotSupportedException("a view's length is fixed"); }
        public override void Flush() { v.Flush(); }
        protected override void Dispose(bool disposing) {
            if (disposing) v.Dispose();
            base.Dispose(disposing);
        }
    }

    // What New- and Open-MemoryMappedFile return: one libmmf handle, with the
    // members of System.IO.MemoryMappedFiles.MemoryMappedFile that scripts use.
    // The handle is counted: the object, each view and each call in progress
    // hold a reference, and the last one closes it, so Dispose() in one
    // thread never pulls the map from under another.
    public class MemoryMappedFile : IDisposable {
        IntPtr handle;
        int refs = 1;
        bool disposed;
        SafeMemoryMappedFileHandle safe;

        public string Name { get; private set; }
        public string Path { get; private set; }
        public MemoryMappedFileAccess Access { get; private set; }
        public bool Persisted { get; private set; }
        public bool AppendMode { get; set; }
        public HandleInheritability Inheritability { get; private set; }
        // The module's: the map that gives a -Path map its name (closed with
        // this object), and the FileStream to dispose with it (-leaveOpen
        // $false).
        public IntPtr NameHandle { get; set; }
        public IDisposable OwnedStream { get; set; }

        public MemoryMappedFile(string name, string path, IntPtr h, bool persisted, MemoryMappedFileAccess access) {
            Name = name; Path = path; handle = h; Persisted = persisted; Access = access;
        }

        // A reference for one call or view: the handle, or IntPtr.Zero once
        // disposed.  Release() it after.
        public IntPtr Acquire() {
            lock (this) {
                if (disposed) return IntPtr.Zero;
                refs++;
                return handle;
            }
        }
        public void Release() {
            IntPtr h = IntPtr.Zero, n = IntPtr.Zero;
            lock (this) {
                if (--refs == 0) { h = handle; handle = IntPtr.Zero; n = NameHandle; NameHandle = IntPtr.Zero; }
            }
            if (h != IntPtr.Zero) Native.mmf_close(h);
            if (n != IntPtr.Zero) Native.mmf_close(n);
        }
        IntPtr Use() {
            IntPtr h = Acquire();
            if (h == IntPtr.Zero) throw new ObjectDisposedException(null, Name + ": the map was already removed from this process");
            return h;
        }
        Stat St() {
            IntPtr h = Use();
            try { return Native.StatOf(h); } finally { Release(); }
        }

        public bool IsDisposed { get { lock (this) { return disposed; } } }
        public string Kind { get { int k = St().kind; return k == 0 ? "mmf" : k == 1 ? "raw" : "file"; } }
        public ulong Capacity { get { return (ulong)St().capacity; } }
        public ulong Length { get { return (ulong)St().length; } }
        public ulong Seq { get { return St().seq; } }
        public bool ReadOnly { get { return St().@readonly != 0; } }

        // The map's descriptor, as .NET's type; disposing it does not close
        // the map (Dispose() on the map does).
        public SafeMemoryMappedFileHandle SafeMemoryMappedFileHandle {
            get {
                IntPtr h = Use();
                try {
                    lock (this) {
                        if (safe == null) {
                            safe = new SafeMemoryMappedFileHandle();
                            typeof(SafeHandle).GetMethod("SetHandle",
                                System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
                                .Invoke(safe, new object[] { (IntPtr)Native.mmf_fd(h) });
                        }
                        return safe;
                    }
                } finally { Release(); }
            }
        }

        public void MakeInheritable() {
            IntPtr h = Use();
            try { Native.Inherit(Native.mmf_fd(h)); } finally { Release(); }
            Inheritability = HandleInheritability.Inheritable;
        }

        bool HandleWrites() {
            return Access != MemoryMappedFileAccess.Read && Access != MemoryMappedFileAccess.ReadExecute &&
                   Access != MemoryMappedFileAccess.CopyOnWrite;
        }

        // A view of [offset, offset + size) (size 0: to the end) with the
        // access asked, as .NET's CreateViewAccessor/CreateViewStream.
        ViewAccessor View(long offset, long size, MemoryMappedFileAccess access) {
            if (offset < 0) throw new ArgumentOutOfRangeException("offset");
            if (size < 0) throw new ArgumentOutOfRangeException("size");
            bool write = access != MemoryMappedFileAccess.Read && access != MemoryMappedFileAccess.ReadExecute;
            bool cow = access == MemoryMappedFileAccess.CopyOnWrite;
            if (write && !cow && !HandleWrites())
                throw new UnauthorizedAccessException("the map was opened without write access: ask for a Read or CopyOnWrite view");
            IntPtr h = Use();
            try {
                Stat st = Native.StatOf(h);
                long total = (long)(ulong)st.capacity;
                if (offset > total || size > total - offset)
                    throw new ArgumentOutOfRangeException("size", "the view does not fit in the map's " + total + " bytes");
                if (write && !cow && st.@readonly != 0)
                    throw new UnauthorizedAccessException("the map is open without write access: ask for a Read or CopyOnWrite view");
                long len = size > 0 ? size : total - offset;
                ViewBytes bytes = st.kind == 0 ? (ViewBytes)new ContentBytes(h, total)
                                               : new RawBytes(Native.mmf_data(h), total);
                if (cow) {
                    var copy = new byte[len];
                    bytes.Read(offset, copy, 0, (int)len);
                    bytes = new PrivateBytes(copy);
                    offset = 0;
                }
                var v = new ViewAccessor();
                v.Init(this, bytes, offset, len, write);
                h = IntPtr.Zero; // the view keeps the reference
                return v;
            } finally {
                if (h != IntPtr.Zero) Release();
            }
        }

        MemoryMappedFileAccess DefaultViewAccess() {
            return HandleWrites() ? MemoryMappedFileAccess.ReadWrite : Access == MemoryMappedFileAccess.CopyOnWrite
                ? MemoryMappedFileAccess.CopyOnWrite : MemoryMappedFileAccess.Read;
        }
        public ViewStream CreateViewStream() { return CreateViewStream(0, 0, DefaultViewAccess()); }
        public ViewStream CreateViewStream(long offset, long size) { return CreateViewStream(offset, size, DefaultViewAccess()); }
        public ViewStream CreateViewStream(long offset, long size, MemoryMappedFileAccess access) {
            return new ViewStream(View(offset, size, access));
        }
        public ViewAccessor CreateViewAccessor() { return CreateViewAccessor(0, 0, DefaultViewAccess()); }
        public ViewAccessor CreateViewAccessor(long offset, long size) { return CreateViewAccessor(offset, size, DefaultViewAccess()); }
        public ViewAccessor CreateViewAccessor(long offset, long size, MemoryMappedFileAccess access) {
            return View(offset, size, access);
        }

        public void Dispose() {
            lock (this) {
                if (disposed) return;
                disposed = true;
            }
            if (OwnedStream != null) OwnedStream.Dispose();
            Release();
            GC.SuppressFinalize(this);
        }

        public override string ToString() { return Name; }
    }
}
