// SPDX-License-Identifier: MIT
// The module's binding of libmmf: which libmmf it loads, the calls it makes,
// and the public structs as mmf.h declares them (tests/powershell checks
// every field's offset against the compiler's).
using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;

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
        public int orphaned;
        public int reserved0_;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 5)]
        public ulong[] reserved_;

        public string Name {
            get {
                int n = Array.IndexOf(name, (byte)0);
                return System.Text.Encoding.UTF8.GetString(name, 0, n < 0 ? name.Length : n);
            }
        }
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

    // struct mmf_write_loan
    [StructLayout(LayoutKind.Sequential)]
    internal struct WriteLoan {
        public IntPtr data;
        public UIntPtr size;
        public ulong priv_0;
        public ulong priv_1;
    }

    // One libmmf handle.  The marshaller counts its uses, so Dispose() in
    // one thread never closes it under a call in another; the last use, or
    // the finalizer of an abandoned map, calls mmf_close().
    internal sealed class MapHandle : SafeHandle {
        internal MapHandle(IntPtr h) : base(IntPtr.Zero, true) { SetHandle(h); }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { Native.mmf_close(handle); return true; }
    }

    internal static class Native {
        internal const string Lib = "libmmf.so.1";
        public const int OpenExisting = 1, Raw = 2, ReadOnly = 4, Private = 8, Transient = 16;
        public const int EPERM = 1, ENOENT = 2, EACCES = 13, EBUSY = 16, EEXIST = 17, EISDIR = 21, EINVAL = 22,
            ENOSPC = 28, ELOOP = 40, ENOBUFS = 105, ETIMEDOUT = 110, EFBIG = 27, ENOMEM = 12;
        public const int ENAME = 4001, ENOTMMF = 4002, EVERSION = 4003, ECORRUPT = 4004,
            ETOOBIG = 4005, ERAW = 4006, ESTUCK = 4007, EOVERTAKEN = 4009, EREADONLY = 4010, ENOTREG = 4011,
            EOWNER = 4012, ENOWATCHER = 4013;
        public const int ReadWhole = 2;
        public const int ECANCELED = 125;

        [DllImport(Lib)] public static extern int mmf_create([MarshalAs(UnmanagedType.LPUTF8Str)] string name, UIntPtr capacity, int flags, uint mode, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_open([MarshalAs(UnmanagedType.LPUTF8Str)] string name, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern int mmf_map_file([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, out IntPtr ret);
        [DllImport(Lib)] public static extern void mmf_close(IntPtr m);
        [DllImport(Lib)] public static extern int mmf_remove([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
        [DllImport(Lib)] public static extern int mmf_write(MapHandle m, byte[] data, UIntPtr len);
        [DllImport(Lib)] public static extern int mmf_write_at(MapHandle m, UIntPtr offset, IntPtr data, UIntPtr len);
        [DllImport(Lib)] public static extern int mmf_append(MapHandle m, byte[] data, UIntPtr len, byte[] sep, UIntPtr sepLen);
        [DllImport(Lib)] public static extern int mmf_read(MapHandle m, byte[] buf, UIntPtr cap, out UIntPtr len, out ulong seq);
        [DllImport(Lib, EntryPoint = "mmf_read")] public static extern int mmf_read_to(MapHandle m, IntPtr buf, UIntPtr cap, out UIntPtr len, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_read_since(MapHandle m, ulong seq, UIntPtr len, byte[] buf, UIntPtr cap, out UIntPtr retLen, out ulong retSeq);
        [DllImport(Lib)] public static extern int mmf_read_begin(MapHandle m, out ReadView v);
        [DllImport(Lib)] public static extern int mmf_read_end(MapHandle m, ref ReadView v);
        [DllImport(Lib)] public static extern int mmf_write_begin(MapHandle m, UIntPtr size, out WriteLoan w);
        [DllImport(Lib)] public static extern int mmf_write_commit(MapHandle m, ref WriteLoan w, UIntPtr len);
        [DllImport(Lib)] public static extern void mmf_write_abort(MapHandle m, ref WriteLoan w);
        [DllImport(Lib)] public static extern int mmf_save(MapHandle m, [MarshalAs(UnmanagedType.LPUTF8Str)] string path);
        [DllImport(Lib)] public static extern int mmf_stat(MapHandle m, ref Stat st);
        [DllImport(Lib)] public static extern IntPtr mmf_data(MapHandle m);
        [DllImport(Lib)] public static extern int mmf_fd(MapHandle m);
        [DllImport(Lib)] public static extern int mmf_wait(MapHandle m, ulong after, int timeoutMs, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_wait_any(IntPtr[] maps, ulong[] after, UIntPtr n, int cancelFd, int timeoutMs, out UIntPtr index, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_event_fd(MapHandle m);
        [DllImport(Lib)] public static extern int mmf_event_ack(MapHandle m, out ulong seq);
        [DllImport(Lib)] public static extern int mmf_info([MarshalAs(UnmanagedType.LPUTF8Str)] string name, IntPtr info);
        [DllImport(Lib)] public static extern int mmf_list(out IntPtr list, out UIntPtr count);
        [DllImport(Lib)] static extern IntPtr mmf_strerror(int code);
        [DllImport(Lib)] static extern IntPtr mmf_version();
        [DllImport("libc", EntryPoint = "free")] public static extern void Free(IntPtr p);
        [DllImport("libc", EntryPoint = "memcpy")] public static extern IntPtr MemCopy(IntPtr dst, IntPtr src, UIntPtr n);
        [DllImport("libc", EntryPoint = "memset")] public static extern IntPtr MemSet(IntPtr dst, int c, UIntPtr n);
        [DllImport("libc", EntryPoint = "mmap")] static extern IntPtr mmap(IntPtr addr, UIntPtr len, int prot, int flags, int fd, IntPtr off);
        [DllImport("libc", EntryPoint = "munmap")] static extern int munmap(IntPtr addr, UIntPtr len);
        [DllImport("libc", EntryPoint = "madvise")] static extern int madvise(IntPtr addr, UIntPtr len, int advice);
        [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)] static extern int fcntl(int fd, int cmd, int arg);
        [DllImport("libc", EntryPoint = "geteuid")] public static extern uint GetEuid();
        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buf);

        // ---- which libmmf ----
        // $env:MMF_LIBRARY if set (it must load); else the libmmf.so.1 beside
        // this assembly (a module folder, a .nupkg); else the one this module
        // was built to be installed with; else the system's search path.
        static IntPtr lib;
        static readonly object libLock = new object();

        internal static void Load() {
            lock (libLock) {
                if (lib != IntPtr.Zero) return;
                var asm = typeof(Native).Assembly;
                string env = Environment.GetEnvironmentVariable("MMF_LIBRARY");
                IntPtr h = IntPtr.Zero;
                if (!string.IsNullOrEmpty(env)) {
                    try { h = NativeLibrary.Load(env); }
                    catch (Exception e) {
                        throw new DllNotFoundException("System.IO.MemoryMappedFiles.Commands: $env:MMF_LIBRARY is '" + env +
                            "', which cannot be loaded (" + e.Message + "); unset it to use the module's own libmmf", e);
                    }
                } else {
                    string here = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(asm.Location) ?? ".", Lib);
                    var tried = new System.Collections.Generic.List<string>();
                    foreach (var c in new[] { here, BuildInfo.InstalledLibrary }) {
                        if (string.IsNullOrEmpty(c)) continue;
                        tried.Add(c);
                        if (File.Exists(c) && NativeLibrary.TryLoad(c, out h)) break;
                    }
                    if (h == IntPtr.Zero && !NativeLibrary.TryLoad(Lib, out h))
                        throw new DllNotFoundException("System.IO.MemoryMappedFiles.Commands: libmmf.so.1 was not found (looked at " +
                            string.Join(", ", tried) + " and the system's library path): install mmf, or set $env:MMF_LIBRARY to its path");
                }
                try { NativeLibrary.GetExport(h, "mmf_write_begin"); }
                catch (EntryPointNotFoundException) {
                    throw new DllNotFoundException("System.IO.MemoryMappedFiles.Commands: the libmmf loaded (" +
                        (string.IsNullOrEmpty(env) ? "found by the system" : env) + ") is not the libmmf this module needs");
                }
                lib = h;
                MakeWatcherRunnable(asm);
                NativeLibrary.SetDllImportResolver(asm, (name, a, path) => name == Lib ? lib : IntPtr.Zero);
            }
        }

        // A .nupkg is a zip, which keeps no Unix modes: Install-PSResource
        // leaves the mmf-watch of the folder without its execute bits, and
        // libmmf could not run it.  Give them back (to the owner's copy only).
        static void MakeWatcherRunnable(Assembly asm) {
            try {
                string w = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(asm.Location) ?? ".", "mmf-watch");
                if (!File.Exists(w)) return;
                var mode = File.GetUnixFileMode(w);
                if ((mode & UnixFileMode.UserExecute) != 0) return;
                uint owner;
                if (Owner(w, false, out owner) < 0 || owner != GetEuid()) return;
                File.SetUnixFileMode(w, mode | UnixFileMode.UserExecute |
                    ((mode & UnixFileMode.GroupRead) != 0 ? UnixFileMode.GroupExecute : 0) |
                    ((mode & UnixFileMode.OtherRead) != 0 ? UnixFileMode.OtherExecute : 0));
            } catch (Exception) { }
        }

        // ---- small helpers ----

        // The owner of an open descriptor (statx, whose layout is the same on
        // every architecture: stx_uid at 20).
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

        // Private anonymous memory that takes pages only where it is written
        // (MAP_NORESERVE: nothing is counted up front); IntPtr.Zero if none.
        public static IntPtr MapAnonymous(long len) {
            const int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
            IntPtr p = mmap(IntPtr.Zero, (UIntPtr)(ulong)Math.Max(len, 1), PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, IntPtr.Zero);
            return p == new IntPtr(-1) ? IntPtr.Zero : p;
        }
        public static void Unmap(IntPtr p, long len) { munmap(p, (UIntPtr)(ulong)Math.Max(len, 1)); }
        public static void FreePages(IntPtr p, long len) {
            const int MADV_FREE = 8;
            if (len > 0) madvise(p, (UIntPtr)(ulong)len, MADV_FREE);
        }

        public static string StrError(int code) { return Marshal.PtrToStringUTF8(mmf_strerror(code)); }
        public static string Version() { return Marshal.PtrToStringUTF8(mmf_version()); }

        // Let children inherit the descriptor (F_SETFD without FD_CLOEXEC).
        public static int Inherit(int fd) {
            const int F_SETFD = 2;
            return fcntl(fd, F_SETFD, 0) < 0 ? -Marshal.GetLastWin32Error() : 0;
        }

        public static Stat StatOf(MapHandle m) {
            var st = new Stat();
            int r = mmf_stat(m, ref st);
            if (r < 0) throw new MmfException(r);
            return st;
        }

        // The content, whole: its length first, then a copy (again if it grew).
        // Beyond this, a .NET array (and a string) cannot hold the content.
        internal const ulong ArrayMax = 0x7FFFFFC7;
        static byte[] Buffer(ulong len) {
            if (len > ArrayMax)
                throw new MmfException(-ETOOBIG, "the content's " + len + " bytes are more than a .NET array holds; save it to a file with Save-MemoryMappedFile");
            return new byte[len];
        }

        public static byte[] Read(MapHandle m, out ulong seq) {
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

    // A libmmf error inside the module; the cmdlets turn it into the .NET
    // exception .NET throws for the same failure (Errors.cs).
    internal sealed class MmfException : Exception {
        public int Code { get; private set; }
        public MmfException(int code) : base(Native.StrError(code)) { Code = code; }
        public MmfException(int code, string message) : base(message) { Code = code; }
    }

    // Loads libmmf when the module is imported, so that a missing or bogus
    // library is a clear error at Import-Module, not at the first call.
    public sealed class ModuleInit : IModuleAssemblyInitializer {
        public void OnImport() { Native.Load(); }
    }
}
