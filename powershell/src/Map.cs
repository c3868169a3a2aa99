// SPDX-License-Identifier: MIT
// What New- and Open-MemoryMappedFile return: one libmmf handle, with the
// members of System.IO.MemoryMappedFiles.MemoryMappedFile that scripts use.
// Nothing in it lets a script touch the handle's life: the handle is a
// SafeHandle (closed by Dispose(), or by the finalizer of a map nobody
// references any more), and each view holds a counted reference on it.
using System;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mmf {
    public sealed class MemoryMappedFile : IDisposable {
        readonly MapHandle handle;
        // The transient map that gives a -Path map its name (-Path -Name),
        // and the FileStream to dispose with the map (-leaveOpen $false).
        readonly MapHandle alias;
        IDisposable ownedStream;
        SafeMemoryMappedFileHandle safe;
        MapWatcher watcher;
        int disposed;
        // The waits (Wait-, Read- -Follow) on this map, woken by Dispose().
        readonly System.Collections.Generic.List<CancelFd> waiters = new System.Collections.Generic.List<CancelFd>();

        public string Name { get; private set; }
        public string Path { get; private set; }
        public MemoryMappedFileAccess Access { get; private set; }
        public bool Persisted { get; private set; }
        public HandleInheritability Inheritability { get; private set; }
        internal bool AppendMode { get; set; }
        internal MapHandle Handle { get { return handle; } }

        internal MemoryMappedFile(string name, string path, MapHandle h, bool persisted, MemoryMappedFileAccess access,
                                  MapHandle alias = null, IDisposable ownedStream = null) {
            Name = name; Path = path; handle = h; Persisted = persisted; Access = access;
            this.alias = alias; this.ownedStream = ownedStream;
        }

        internal void OwnStream(IDisposable s) { ownedStream = s; }

        internal void CheckOpen() {
            if (IsDisposed) throw new ObjectDisposedException(null, Name + ": the map was already removed from this process");
        }

        Stat St() { CheckOpen(); return Native.StatOf(handle); }

        public bool IsDisposed { get { return handle.IsClosed || disposed != 0; } }
        public string Kind { get { int k = St().kind; return k == 0 ? "mmf" : k == 1 ? "raw" : "file"; } }
        public ulong Capacity { get { return (ulong)St().capacity; } }
        public ulong Length { get { return (ulong)St().length; } }
        public ulong Seq { get { return St().seq; } }
        public uint Holders { get { return St().holders; } }
        public bool ReadOnly { get { return St().@readonly != 0; } }

        // The map's descriptor, as .NET's type.  It does not own the
        // descriptor: disposing it leaves the map open (Dispose() on the map
        // closes it).
        public SafeMemoryMappedFileHandle SafeMemoryMappedFileHandle {
            get {
                CheckOpen();
                lock (this) {
                    if (safe == null) {
                        var s = new SafeMemoryMappedFileHandle();
                        typeof(SafeHandle).GetMethod("SetHandle",
                            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)
                            .Invoke(s, new object[] { (IntPtr)Native.mmf_fd(handle) });
                        safe = s;
                    }
                    return safe;
                }
            }
        }

        // The map's watcher: a .NET event (Changed) and a WaitHandle raised
        // by a thread of the module at each new content, for
        // Register-ObjectEvent; one per map (later calls return it until it
        // is disposed), disposed with the map.  mmf maps only.
        public MapWatcher GetWatcher() {
            CheckOpen();
            lock (this) {
                if (watcher == null || watcher.IsDisposed) watcher = new MapWatcher(this, handle);
                return watcher;
            }
        }

        internal int MakeInheritable() {
            int r = Native.Inherit(Native.mmf_fd(handle));
            if (r == 0) Inheritability = HandleInheritability.Inheritable;
            return r;
        }

        bool HandleWrites() {
            return Access != MemoryMappedFileAccess.Read && Access != MemoryMappedFileAccess.ReadExecute &&
                   Access != MemoryMappedFileAccess.CopyOnWrite;
        }

        // A view of [offset, offset + size) (size 0: to the end) with the
        // access asked, as .NET's CreateViewAccessor/CreateViewStream.
        ViewAccessor View(long offset, long size, MemoryMappedFileAccess access) {
            if (offset < 0) throw new ArgumentOutOfRangeException("offset", "a view cannot start before the map");
            if (size < 0) throw new ArgumentOutOfRangeException("size", "a view's size cannot be negative");
            bool write = access != MemoryMappedFileAccess.Read && access != MemoryMappedFileAccess.ReadExecute;
            bool cow = access == MemoryMappedFileAccess.CopyOnWrite;
            if (write && !cow && !HandleWrites())
                throw new UnauthorizedAccessException(Name + ": the map was opened without write access: ask for a Read or CopyOnWrite view");
            Stat st = St();
            long total = (long)(ulong)st.capacity;
            if (offset > total || size > total - offset)
                throw new ArgumentOutOfRangeException("size", "the view does not fit in the map's " + total + " bytes");
            if (write && !cow && st.@readonly != 0)
                throw new UnauthorizedAccessException(Name + ": the map is open without write access: ask for a Read or CopyOnWrite view");
            long len = size > 0 ? size : total - offset;
            return new ViewAccessor(new ViewBytes(handle, st.kind == 0, total, cow, offset, len), offset, len, write);
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

        internal void AddWaiter(CancelFd c) {
            lock (waiters) waiters.Add(c);
            if (IsDisposed) c.Signal();
        }
        internal void RemoveWaiter(CancelFd c) { lock (waiters) waiters.Remove(c); }

        // Views keep the handle open (their own references) until they are
        // disposed, as .NET's views keep theirs.
        public void Dispose() {
            if (System.Threading.Interlocked.Exchange(ref disposed, 1) != 0) return;
            MapWatcher w;
            lock (this) w = watcher;
            if (w != null) w.Dispose();
            if (ownedStream != null) ownedStream.Dispose();
            handle.Dispose();
            lock (waiters) foreach (var c in waiters) c.Signal();
            if (alias != null) alias.Dispose();
        }

        public override string ToString() { return Name; }
    }
}
