// SPDX-License-Identifier: MIT
// A map's changes as a .NET event and a WaitHandle, for scripts that react
// to writes without a thread of their own (Register-ObjectEvent, or
// WaitHandle.WaitAny beside other handles).  One background thread per
// watcher sleeps in poll(2) on the map's event descriptor (mmf_event_fd)
// and on a stop descriptor of its own; a .NET WaitHandle cannot wrap a
// descriptor on Linux, so the thread sets one.
using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Mmf {
    public sealed class MapChangedEventArgs : EventArgs {
        internal MapChangedEventArgs(MemoryMappedFile m, ulong seq) { MemoryMappedFile = m; Seq = seq; }
        public MemoryMappedFile MemoryMappedFile { get; private set; }
        public string Name { get { return MemoryMappedFile.Name; } }
        // The seq acknowledged: the content's when the event was raised, or
        // newer (read the map after it to get at least this one).
        public ulong Seq { get; private set; }
    }

    public sealed class MapWatcher : IDisposable {
        [StructLayout(LayoutKind.Sequential)]
        struct PollFd { public int fd; public short events; public short revents; }
        [DllImport("libc", SetLastError = true)] static extern int poll([In, Out] PollFd[] fds, UIntPtr n, int timeout);
        [DllImport("libc", SetLastError = true)] static extern int eventfd(uint initval, int flags);
        [DllImport("libc", SetLastError = true)] static extern IntPtr write(int fd, ref ulong v, UIntPtr n);
        [DllImport("libc")] static extern int close(int fd);
        const short POLLIN = 1;
        const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800, EINTR = 4;

        readonly MemoryMappedFile map;
        readonly MapHandle handle;
        readonly AutoResetEvent changed = new AutoResetEvent(false);
        readonly Thread thread;
        readonly int efd, stopFd;
        long seq;
        int disposed;

        // Raised on the watcher's thread after each acknowledged change
        // (contents published meanwhile count as one).
        public event EventHandler<MapChangedEventArgs> Changed;
        // Raised once if the map can no longer be watched (a peer shrank it).
        public event EventHandler<ErrorEventArgs> Error;

        public MemoryMappedFile MemoryMappedFile { get { return map; } }
        // Set at each change; auto-reset by the wait that sees it.
        public WaitHandle WaitHandle { get { return changed; } }
        // The seq last acknowledged.
        public ulong Seq { get { return (ulong)Interlocked.Read(ref seq); } }
        public bool IsDisposed { get { return disposed != 0; } }

        internal MapWatcher(MemoryMappedFile m, MapHandle h) {
            map = m;
            handle = h;
            bool added = false;
            // The handle stays open while the thread polls its descriptor.
            h.DangerousAddRef(ref added);
            try {
                efd = Native.mmf_event_fd(h);
                if (efd < 0) throw new MmfException(efd, m.Name + ": cannot watch: " + Native.StrError(efd));
                ulong s;
                int r = Native.mmf_event_ack(h, out s); // from now on
                if (r < 0) throw new MmfException(r, m.Name + ": cannot watch: " + Native.StrError(r));
                seq = (long)s;
                stopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (stopFd < 0) throw new MmfException(-Marshal.GetLastWin32Error(), m.Name + ": cannot watch: no eventfd");
            } catch {
                h.DangerousRelease();
                throw;
            }
            thread = new Thread(Run) { IsBackground = true, Name = "mmf watcher " + m.Name };
            thread.Start();
        }

        void Run() {
            try { Loop(); }
            finally {
                // Here, not in Dispose(): a handler may dispose the watcher
                // from this very thread, which must not then touch the map.
                close(stopFd);
                changed.Dispose();
                handle.DangerousRelease();
            }
        }

        void Loop() {
            var fds = new PollFd[2];
            for (;;) {
                fds[0] = new PollFd { fd = efd, events = POLLIN };
                fds[1] = new PollFd { fd = stopFd, events = POLLIN };
                int n = poll(fds, (UIntPtr)2, -1);
                if (n < 0 && Marshal.GetLastWin32Error() == EINTR) continue;
                if (n < 0 || fds[1].revents != 0 || disposed != 0) return;
                if (fds[0].revents == 0) continue;
                ulong s;
                int r = Native.mmf_event_ack(handle, out s);
                if (r < 0) {
                    var err = Error;
                    if (err != null) err(this, new ErrorEventArgs(new MmfException(r, map.Name + ": " + Native.StrError(r))));
                    return;
                }
                Interlocked.Exchange(ref seq, (long)s);
                changed.Set();
                var h = Changed;
                if (h != null) {
                    try { h(this, new MapChangedEventArgs(map, s)); }
                    catch (Exception) { } // a handler's failure must not end the watch
                }
            }
        }

        // Stops the thread (at once, or after the handler running now); the
        // map stays open.
        public void Dispose() {
            if (Interlocked.Exchange(ref disposed, 1) != 0) return;
            ulong one = 1;
            write(stopFd, ref one, (UIntPtr)8);
            if (Thread.CurrentThread != thread) thread.Join();
        }
    }

    public sealed class ErrorEventArgs : EventArgs {
        internal ErrorEventArgs(Exception e) { Exception = e; }
        public Exception Exception { get; private set; }
    }
}
