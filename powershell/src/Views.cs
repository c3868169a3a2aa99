// SPDX-License-Identifier: MIT
// Views (CreateViewStream, CreateViewAccessor).  A view of a raw object or
// a mapped file is its bytes in place, as .NET's views are.  A view of an mmf
// map keeps what it writes in memory of its own (pages only where it wrote;
// the ranges written, sorted and coalesced) and publishes them on Flush()
// and Dispose(): each range with one mmf_write_at, in ascending order of
// offset, so that a write costs what it writes and so does its publication
// (mmf_write_at copies what it writes and what the publication before it
// changed; after a whole write, such as Out-MemoryMappedFile's, the first
// one copies the whole content once).  Every content readers see is whole:
// a range is never seen in part, and a range that starts past the content's
// end grows it with zeros first.  Between two ranges of one Flush() a reader
// may see the first without the second (any reader of .NET's views sees
// each write as it is made); writers of different bytes never undo each
// other.  Reads through the view show one whole content, never a mix of
// two: a copy of the content published when the view first reads (taken
// again after each Flush()), which costs one content's bytes once, with the
// view's own unpublished writes over it.  A CopyOnWrite view keeps its
// writes and never publishes them.
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace Mmf {
    internal sealed class ViewBytes {
        // The bytes written: in a private anonymous mapping of the view's
        // window (pages are allocated as they are first written; nothing is
        // reserved), and the ranges written, sorted and coalesced, so that a
        // write costs its bytes (a sequential writer extends the last range)
        // and each range is published straight from the mapping.
        const int PageSize = 4096;

        readonly MapHandle h;
        readonly bool content, cow;
        readonly long capacity, windowOff, windowLen;
        readonly IntPtr raw;
        IntPtr region;   // [windowOff, windowOff + windowLen) of the content
        readonly List<long> starts = new List<long>(), ends = new List<long>();
        bool referenced;
        // The whole content the view reads (unmanaged: a content may be
        // larger than a .NET array), taken at the first read.
        IntPtr snap;
        long snapLen = -1;

        internal ViewBytes(MapHandle h, bool content, long capacity, bool cow, long windowOff, long windowLen) {
            this.h = h; this.content = content; this.capacity = capacity; this.cow = cow;
            this.windowOff = windowOff; this.windowLen = windowLen;
            h.DangerousAddRef(ref referenced);
            if (!content) raw = Native.mmf_data(h);
        }

        bool Overlay { get { return content || cow; } }

        public void Read(long pos, byte[] b, int off, int n) {
            if (n <= 0) return;
            if (!content) Marshal.Copy(new IntPtr(raw.ToInt64() + pos), b, off, n);
            else ReadContent(pos, b, off, n);
            if (starts.Count > 0) ApplyDirty(pos, b, off, n);
        }

        // The snapshot's bytes (zeros past its end).
        void ReadContent(long pos, byte[] b, int off, int n) {
            if (snapLen < 0) TakeSnapshot();
            int have = (int)Math.Max(0, Math.Min(n, snapLen - pos));
            if (have > 0) Marshal.Copy(new IntPtr(snap.ToInt64() + pos), b, off, have);
            Array.Clear(b, off + have, n - have);
        }

        // One whole content, copied by mmf_read (which retries until its
        // copy is of one content).
        void TakeSnapshot() {
            for (;;) {
                long len = (long)(ulong)Native.StatOf(h).length;
                IntPtr p = Marshal.AllocHGlobal((IntPtr)Math.Max(len, 1));
                UIntPtr got;
                ulong seq;
                int r = Native.mmf_read_to(h, p, (UIntPtr)(ulong)len, out got, out seq);
                if (r == -Native.ENOBUFS) { Marshal.FreeHGlobal(p); continue; }  // grown meanwhile
                if (r < 0) { Marshal.FreeHGlobal(p); throw new MmfException(r); }
                snap = p;
                snapLen = (long)(ulong)got;
                return;
            }
        }

        void DropSnapshot() {
            if (snapLen < 0) return;
            Marshal.FreeHGlobal(snap);
            snap = IntPtr.Zero;
            snapLen = -1;
        }

        // Where the written byte at pos is kept.
        IntPtr At(long pos) { return new IntPtr(region.ToInt64() + (pos - windowOff)); }

        // The first range that ends after pos.
        int FirstAfter(long pos) {
            int lo = 0, hi = ends.Count;
            while (lo < hi) { int mid = (lo + hi) >> 1; if (ends[mid] <= pos) lo = mid + 1; else hi = mid; }
            return lo;
        }

        void ApplyDirty(long pos, byte[] b, int off, int n) {
            long end = pos + n;
            for (int i = FirstAfter(pos); i < starts.Count && starts[i] < end; i++) {
                long from = Math.Max(pos, starts[i]), to = Math.Min(end, ends[i]);
                Marshal.Copy(At(from), b, off + (int)(from - pos), (int)(to - from));
            }
        }

        public void Write(long pos, byte[] b, int off, int n) {
            if (n <= 0) return;
            if (!Overlay) { Marshal.Copy(b, off, new IntPtr(raw.ToInt64() + pos), n); return; }
            if (region == IntPtr.Zero) {
                region = Native.MapAnonymous(windowLen);
                if (region == IntPtr.Zero) throw new OutOfMemoryException("no room for the view's " + windowLen + " bytes");
            }
            Marshal.Copy(b, off, At(pos), n);
            AddRange(pos, pos + n);
        }

        // Add [from, to) to the sorted, disjoint, non-adjacent ranges.
        void AddRange(long from, long to) {
            int last = ends.Count - 1;
            if (last < 0 || from > ends[last]) { starts.Add(from); ends.Add(to); return; }
            if (from >= starts[last]) { if (to > ends[last]) ends[last] = to; return; }
            int i = FirstAfter(from - 1);   // the first range that ends at or after from
            int j = i;
            while (j < starts.Count && starts[j] <= to) j++;
            if (i == j) { starts.Insert(i, from); ends.Insert(i, to); return; }
            long s0 = Math.Min(from, starts[i]), e0 = Math.Max(to, ends[j - 1]);
            starts.RemoveRange(i + 1, j - i - 1); ends.RemoveRange(i + 1, j - i - 1);
            starts[i] = s0; ends[i] = e0;
        }

        // Nothing is written any more: the pages may go (MADV_FREE: the
        // kernel takes them when it needs memory; a later write reuses them).
        void ClearDirty() {
            if (starts.Count == 0) return;
            long from = (starts[0] - windowOff) / PageSize * PageSize;
            long to = Math.Min(windowLen, (ends[ends.Count - 1] - windowOff + PageSize - 1) / PageSize * PageSize);
            Native.FreePages(new IntPtr(region.ToInt64() + from), to - from);
            starts.Clear(); ends.Clear();
        }

        // Publish the written ranges, each with one mmf_write_at (a new
        // content that is the current one with the range in place, grown
        // with zeros when the range starts past its end), in ascending order
        // of offset: a publication costs the bytes written, not the content.
        // A failure leaves the ranges not yet published in the view, for a
        // later Flush() to publish.
        public void Flush() {
            if (!content) return;
            // Nothing to publish: the next read takes the newest content.
            if (starts.Count == 0) { DropSnapshot(); return; }
            if (cow) return;
            int done = 0;
            try {
                for (; done < starts.Count; done++) {
                    long from = starts[done], to = ends[done];
                    int r = Native.mmf_write_at(h, (UIntPtr)(ulong)from, At(from), (UIntPtr)(ulong)(to - from));
                    if (r < 0) throw new MmfException(r, r == -Native.EREADONLY ? "the map is open without write access" : Native.StrError(r));
                }
            } finally {
                if (done == starts.Count) ClearDirty();
                else if (done > 0) { starts.RemoveRange(0, done); ends.RemoveRange(0, done); }
                if (done > 0) DropSnapshot();  // the next read sees the content published
            }
        }

        // The view's reference on the map: the map stays open while the view is.
        public void Release() {
            DropSnapshot();
            if (region != IntPtr.Zero) { Native.Unmap(region, windowLen); region = IntPtr.Zero; }
            if (referenced) { referenced = false; h.DangerousRelease(); }
        }
    }

    // A window [offset, offset + size) of a view's bytes.
    public abstract class ViewBase : IDisposable {
        internal ViewBytes bytes;
        internal long offset, size;
        internal bool canWrite;
        readonly object gate = new object();

        internal void Init(ViewBytes b, long off, long sz, bool w) { bytes = b; offset = off; size = sz; canWrite = w; }
        internal ViewBytes Open() {
            var b = bytes;
            if (b == null) throw new ObjectDisposedException(GetType().Name, "the view was disposed");
            return b;
        }
        internal void CheckRange(long pos, long n) {
            if (pos < 0 || n < 0 || pos > size || n > size - pos)
                throw new ArgumentOutOfRangeException("position", "beyond the view's " + size + " bytes");
        }
        internal void Get(long pos, byte[] b, int off, int n) {
            lock (gate) { var v = Open(); CheckRange(pos, n); v.Read(offset + pos, b, off, n); }
        }
        internal void Put(long pos, byte[] b, int off, int n) {
            lock (gate) {
                var v = Open();
                if (!canWrite) throw new NotSupportedException("the view is read-only");
                CheckRange(pos, n);
                v.Write(offset + pos, b, off, n);
            }
        }
        internal void FlushBytes() { lock (gate) { Open().Flush(); } }

        // Publishes what the view wrote, then lets the map go.
        protected void Close(bool disposing) {
            lock (gate) {
                var v = bytes;
                if (v == null) return;
                try { v.Flush(); }
                catch when (!disposing) { }  // a finalizer must not throw
                finally { bytes = null; v.Release(); }
            }
        }
        public void Dispose() { Close(true); GC.SuppressFinalize(this); }
        ~ViewBase() { Close(false); }
    }

    // What CreateViewAccessor returns: the members of .NET's
    // MemoryMappedViewAccessor that scripts use, over the view's bytes.
    public sealed class ViewAccessor : ViewBase {
        internal ViewAccessor(ViewBytes b, long off, long sz, bool w) { Init(b, off, sz, w); }
        public long Capacity { get { return size; } }
        public bool CanRead { get { return true; } }
        public bool CanWrite { get { return canWrite; } }
        public long PointerOffset { get { return offset; } }
        public void Flush() { FlushBytes(); }

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
        public decimal ReadDecimal(long p) {
            var b = Take(p, 16);
            var bits = new int[4];
            Buffer.BlockCopy(b, 0, bits, 0, 16);
            try { return new decimal(bits); }   // lo, mid, hi, flags, as .NET lays it out
            catch (ArgumentException) { throw new ArgumentException("the 16 bytes at " + p + " are not a decimal"); }
        }

        // Structs of any unmanaged type, as UnmanagedMemoryAccessor's
        // generic members: a T[] or [ref] of another type is an error, never
        // a conversion (there is no byte[]-only overload for PowerShell to
        // convert an [int[]] to).
        static void CheckArray<T>(T[] array, int offset, int count) {
            if (array == null) throw new ArgumentNullException("array");
            if (offset < 0) throw new ArgumentOutOfRangeException("offset", "cannot be negative");
            if (count < 0) throw new ArgumentOutOfRangeException("count", "cannot be negative");
            if (array.Length - offset < count) throw new ArgumentException("offset and count go past the end of the array");
        }
        public int ReadArray<T>(long p, T[] array, int offset, int count) where T : unmanaged {
            CheckArray(array, offset, count);
            if (p < 0 || p > size) throw new ArgumentOutOfRangeException("position", "beyond the view's " + size + " bytes");
            int t = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            int n = (int)Math.Min(count, (size - p) / t);
            var b = new byte[n * t];
            Get(p, b, 0, b.Length);
            b.AsSpan().CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan(offset, n)));
            return n;
        }
        public void Read<T>(long p, out T structure) where T : unmanaged {
            var one = new T[1];
            if (ReadArray(p, one, 0, 1) != 1) throw new ArgumentOutOfRangeException("position", "the struct goes past the view's " + size + " bytes");
            structure = one[0];
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
        public void Write(long p, decimal v) {
            var bits = decimal.GetBits(v);
            var b = new byte[16];
            Buffer.BlockCopy(bits, 0, b, 0, 16);
            Give(p, b);
        }
        public void WriteArray<T>(long p, T[] array, int offset, int count) where T : unmanaged {
            CheckArray(array, offset, count);
            Give(p, System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan(offset, count)).ToArray());
        }
        public void Write<T>(long p, ref T structure) where T : unmanaged {
            WriteArray(p, new[] { structure }, 0, 1);
        }
    }

    // What CreateViewStream returns: a Stream over the view's bytes, with
    // the view's length (writes cannot go past it, as with .NET's).
    public sealed class ViewStream : Stream {
        readonly ViewAccessor v;
        long pos;
        internal ViewStream(ViewAccessor v) { this.v = v; }
        public override bool CanRead { get { return v.bytes != null; } }
        public override bool CanSeek { get { return v.bytes != null; } }
        public override bool CanWrite { get { return v.bytes != null && v.canWrite; } }
        public override long Length { get { v.Open(); return v.size; } }
        public long Capacity { get { return v.size; } }
        public long PointerOffset { get { return v.offset; } }
        public override long Position {
            get { v.Open(); return pos; }
            set { v.Open(); if (value < 0) throw new ArgumentOutOfRangeException("value"); pos = value; }
        }
        public override int Read(byte[] buffer, int offset, int count) {
            v.Open();
            int n = (int)Math.Max(0, Math.Min(count, v.size - pos));
            if (n == 0) return 0;
            v.Get(pos, buffer, offset, n);
            pos += n;
            return n;
        }
        public override void Write(byte[] buffer, int offset, int count) {
            v.Open();
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
}
