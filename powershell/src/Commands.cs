// SPDX-License-Identifier: MIT
// The cmdlets other than New-MemoryMappedFile.  As in the original, only the
// map object and the string take pipeline input by value; every parameter
// takes it by property name.
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Management.Automation;
using System.Text;

namespace Mmf {
    [Cmdlet(VerbsCommon.Open, "MemoryMappedFile", DefaultParameterSetName = "Default")]
    [OutputType("System.IO.MemoryMappedFiles.MemoryMappedFile")]
    public sealed class OpenMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Default", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "MemoryMappedFileRights", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "HandleInheritability", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("mapName")]
        [AllowEmptyString]
        [ArgumentCompleter(typeof(MapNameCompleter))]
        public string Name { get; set; }

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "MemoryMappedFileRights", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = "HandleInheritability", ValueFromPipelineByPropertyName = true)]
        [Alias("desiredAccessRights")]
        public MemoryMappedFileRights MemoryMappedFileRights { get; set; } = MemoryMappedFileRights.ReadWrite;

        [Parameter(Mandatory = true, Position = 2, ParameterSetName = "HandleInheritability", ValueFromPipelineByPropertyName = true)]
        [Alias("inheritability")]
        public HandleInheritability HandleInheritability { get; set; }

        protected override void Process() {
            var rights = MemoryMappedFileRights;
            MemoryMappedFileAccess access =
                (rights & MemoryMappedFileRights.Write) != 0 ? MemoryMappedFileAccess.ReadWrite
                : rights == MemoryMappedFileRights.CopyOnWrite ? MemoryMappedFileAccess.CopyOnWrite
                : MemoryMappedFileAccess.Read;
            string name = MapName.Plain(Name), path;
            try { MapName.Check(name); }
            catch (ArgumentException e) { FailArgument(Verb + " " + name + ": " + e.Message, name, "InvalidMapName"); }
            MapHandle h, alias;
            int r = OpenByName(name, OpenFlags(access), out h, out path, out alias);
            if (r < 0) Fail(r, Message(name, r), name);
            var m = new MemoryMappedFile(name, path, h, path != null, access, alias);
            if (HandleInheritability == HandleInheritability.Inheritable) {
                r = m.MakeInheritable();
                if (r < 0) { m.Dispose(); Fail(r, Message(name, r), name); }
            }
            WriteVerbose(Verb + ": opened " + name + " (" + m.Kind + ", " + access + (path != null ? ", the file " + path : "") + ")");
            WriteObject(Wrap(m));
        }

        // An mmf map; another program's object as raw bytes; or the file
        // that New-MemoryMappedFile -Path -Name gave this name, when the name
        // is the caller's or the file owner's (as the kernel's
        // protected_symlinks rule has it).  The name's map is kept open
        // with the file: the name lives while someone holds it.
        static int OpenByName(string name, int flags, out MapHandle h, out string path, out MapHandle alias) {
            path = null;
            alias = null;
            h = null;
            IntPtr p;
            int r = Native.mmf_open(name, flags, out p);
            if (r == -Native.ENOTMMF) r = Native.mmf_open(name, flags | Native.Raw, out p);
            if (r < 0) return r;
            h = new MapHandle(p);
            string target = AliasTarget(h);
            if (target == null) return r;
            uint owner, towner;
            if (Native.OwnerOfFd(Native.mmf_fd(h), out owner) < 0 || Native.Owner(target, true, out towner) < 0 ||
                (owner != Native.GetEuid() && owner != towner)) {
                h.Dispose();
                h = null;
                return -Native.EACCES;
            }
            alias = h;
            h = null;
            r = Native.mmf_open(target, flags, out p);
            if (r == -Native.ENOTMMF) r = Native.mmf_map_file(target, flags & Native.ReadOnly, out p);
            if (r < 0) { alias.Dispose(); alias = null; return r; }
            h = new MapHandle(p);
            path = target;
            return r;
        }

        static string AliasTarget(MapHandle h) {
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
        [AllowEmptyString]
        public string String { get; set; }

        [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
        public SwitchParameter Append { get; set; }

        // Beyond the original: what -Append puts between the content and the
        // string; CRLF, as the original writes.
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string Separator { get; set; } = "\r\n";

        protected override void Process() {
            var m = MemoryMappedFile;
            CheckOpen(m);
            bool append = Append || m.AppendMode;
            if (!ShouldProcess(m.Name, append ? "Append to memory-mapped file" : "Write memory-mapped file")) return;
            byte[] bytes = Encoding.UTF8.GetBytes(String);
            byte[] sep = Encoding.UTF8.GetBytes(Separator ?? "");
            int r = append
                ? Native.mmf_append(m.Handle, bytes, (UIntPtr)(ulong)bytes.Length, sep, (UIntPtr)(ulong)sep.Length)
                : Native.mmf_write(m.Handle, bytes, (UIntPtr)(ulong)bytes.Length);
            if (r == -Native.ETOOBIG) Fail(r, TooBig(m, bytes.Length, append ? sep.Length : -1), m);
            if (r < 0) Fail(r, Message(m.Name, r), m);
            WriteVerbose(Verb + ": " + (append ? "appended " : "wrote ") + bytes.Length + " bytes to " + m.Name + " (seq " + m.Seq + ")");
        }

        // What does not fit, and what does.
        string TooBig(MemoryMappedFile m, long n, long sep) {
            Stat st = Native.StatOf(m.Handle);
            ulong cap = (ulong)st.capacity, len = (ulong)st.length;
            if (sep < 0)
                return Verb + " " + m.Name + ": " + n + " bytes do not fit the " + cap + "-byte capacity; nothing was written";
            long need = len == 0 ? n : n + sep;
            return Verb + " " + m.Name + ": appending " + need + " bytes" + (len == 0 ? "" : " (" + sep + " of them the separator)") +
                   " does not fit: the content is " + len + " of the " + cap + "-byte capacity, so " + (cap - len) +
                   " bytes are free; nothing was written";
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

        // With -Follow: what delimits the appended pieces (Out-
        // MemoryMappedFile -Append's separator, CRLF by default; with CRLF,
        // a bare LF too, as the mmf command appends); empty: no split.
        [Parameter]
        [AllowEmptyString]
        public string Separator { get; set; } = "\r\n";

        // The pieces of an appended text, without the separator before each.
        IEnumerable<string> Pieces(string text) {
            string sep = Separator ?? "";
            if (sep.Length == 0) { yield return text; yield break; }
            string[] parts = sep == "\r\n" ? System.Text.RegularExpressions.Regex.Split(text, "\r?\n")
                                           : text.Split(new[] { sep }, StringSplitOptions.None);
            // The text starts with the separator put before the first piece.
            for (int i = parts.Length > 1 && parts[0].Length == 0 ? 1 : 0; i < parts.Length; i++) yield return parts[i];
        }

        // The content, then each later one: only the appended text when it
        // extends the last one written out (one item per piece appended), the whole content (and a
        // warning) otherwise; until -TimeoutSeconds or Ctrl+C.
        void FollowMap(MemoryMappedFile m) {
            var h = m.Handle;
            var buf = new byte[1 << 16];
            ulong seq = 0, len = 0;
            bool first = true;
            var deadline = TimeoutSeconds < 0 ? DateTime.MaxValue : DateTime.UtcNow.AddSeconds(TimeoutSeconds);
            while (!Stopping) {
                UIntPtr got;
                ulong now;
                int r = Native.mmf_read_since(h, seq, (UIntPtr)len, buf, (UIntPtr)(ulong)buf.Length, out got, out now);
                if (r == -Native.ENOBUFS) {
                    if ((ulong)got > Native.ArrayMax) Fail(-Native.ETOOBIG, Verb + " " + m.Name + ": a content too large for a .NET string", m);
                    buf = new byte[(long)(ulong)got];
                    continue;
                }
                if (r < 0) Fail(r, Message(m.Name, r), m);
                bool whole = r == Native.ReadWhole || first;
                if (r == Native.ReadWhole && !first)
                    WriteWarning(Verb + " " + m.Name + ": the content was replaced (seq " + now + "); it follows whole (anything appended just before may be missed)");
                len = whole ? (ulong)got : len + (ulong)got;
                if (now != seq || first) {
                    string text = Encoding.UTF8.GetString(buf, 0, (int)(ulong)got);
                    if (whole) WriteObject(text);
                    else foreach (var piece in Pieces(text)) WriteObject(piece);
                }
                seq = now;
                first = false;
                // Stop and Dispose() end the wait at once (WaitMaps).
                double left = (deadline - DateTime.UtcNow).TotalMilliseconds;
                if (left <= 0) return;
                int ms = deadline == DateTime.MaxValue ? -1 : (int)Math.Min(int.MaxValue, Math.Ceiling(left));
                int index;
                ulong newer;
                r = WaitMaps(new[] { m }, new[] { seq }, ms, out index, out newer);
                if (r == -Native.ETIMEDOUT) return;
                if (r < 0) Fail(r, Message(m.Name, r), m);
            }
        }

        protected override void Process() {
            var m = MemoryMappedFile;
            CheckOpen(m);
            // Not ShouldProcess-gated: a read changes nothing.  -WhatIf and
            // -Confirm stay accepted, as the original's signature has them.
            if (Follow) {
                CheckTimeout(TimeoutSeconds, MyInvocation.BoundParameters.ContainsKey("TimeoutSeconds"));
                if (Native.StatOf(m.Handle).kind != 0)
                    Fail(-Native.ERAW, Verb + " " + m.Name + ": -Follow needs an mmf map; this one is raw bytes", m);
                FollowMap(m);
                return;
            }
            ulong seq;
            byte[] bytes;
            try {
                bytes = Native.Read(m.Handle, out seq);
            } catch (MmfException e) {
                Fail(e.Code, e.Code == -Native.ETOOBIG ? Verb + " " + m.Name + ": " + e.Message : Message(m.Name, e.Code), m);
                return;
            }
            string text = Encoding.UTF8.GetString(bytes);
            // A raw object or a file has no length: its trailing NULs are
            // the unwritten rest.
            if (Native.StatOf(m.Handle).kind != 0) text = text.TrimEnd('\0');
            WriteVerbose(Verb + ": read " + bytes.Length + " bytes of " + m.Name + " (seq " + seq + ")");
            WriteObject(text);
        }
    }

    [Cmdlet(VerbsCommon.Remove, "MemoryMappedFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class RemoveMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public MemoryMappedFile MemoryMappedFile { get; set; }

        protected override void Process() {
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

        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        protected override void Process() {
            var m = MemoryMappedFile;
            CheckOpen(m);
            string full = FullPath(Path);
            if (!ShouldProcess(full, "Save memory-mapped file " + m.Name)) return;
            int r = Native.mmf_save(m.Handle, full);
            if (r < 0)
                Fail(r, Verb + " " + m.Name + ": cannot save to '" + full + "': " + Native.StrError(r) + "; the file was not changed", full, true);
            WriteVerbose(Verb + ": saved " + m.Name + " to " + full);
        }
    }

    // ---- beyond the original module ----

    [Cmdlet(VerbsLifecycle.Wait, "MemoryMappedFile")]
    [OutputType(typeof(ulong), typeof(PSObject))]
    public sealed class WaitMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        public MemoryMappedFile[] MemoryMappedFile { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        public ulong After { get; set; }

        [Parameter]
        public double TimeoutSeconds { get; set; } = -1;

        protected override void Process() {
            var maps = MemoryMappedFile;
            foreach (var x in maps) CheckOpen(x);
            CheckTimeout(TimeoutSeconds, MyInvocation.BoundParameters.ContainsKey("TimeoutSeconds"));
            bool after = MyInvocation.BoundParameters.ContainsKey("After");
            int ms = TimeoutSeconds < 0 ? -1 : (int)Math.Min(int.MaxValue, Math.Ceiling(TimeoutSeconds * 1000));
            int n = maps.Length;
            var from = new ulong[n];
            for (int i = 0; i < n; i++) from[i] = after ? After : maps[i].Seq;
            int index;
            ulong seq;
            int r = WaitMaps(maps, from, ms, out index, out seq);
            if (r == -Native.ETIMEDOUT)
                Fail(r, n == 1 ? Verb + " " + maps[0].Name + ": no content newer than seq " + from[0] + " within the timeout"
                               : Verb + ": none of the " + n + " maps changed within the timeout", maps[0]);
            if (r < 0) Fail(r, Message(maps[0].Name, r), maps[0]);
            if (n == 1) { WriteObject(seq); return; }
            // Several maps: the first (in order) that holds a newer content,
            // as an object with MemoryMappedFile, Name, Index and Seq.
            var m = maps[index];
            var o = new PSObject();
            o.TypeNames.Insert(0, "Mmf.MapChange");
            o.Properties.Add(new PSNoteProperty("MemoryMappedFile", m));
            o.Properties.Add(new PSNoteProperty("Name", m.Name));
            o.Properties.Add(new PSNoteProperty("Index", index));
            o.Properties.Add(new PSNoteProperty("Seq", seq));
            WriteObject(o);
        }
    }

    [Cmdlet(VerbsCommon.Get, "MemoryMappedFile")]
    [OutputType("Mmf.MapInfo")]
    public sealed class GetMemoryMappedFileCommand : MmfCmdlet {
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(MapNameCompleter))]
        public string Name { get; set; } = "*";

        protected override void Process() {
            Info[] all;
            try { all = Native.List(); }
            catch (MmfException e) { Fail(e.Code, Message("/dev/shm", e.Code), "/dev/shm"); return; }
            // A pattern, or the name itself: 'x-[1]' finds the map x-[1] too.
            var pattern = new WildcardPattern(Name);
            foreach (var f in all) {
                if (!pattern.IsMatch(f.Name) && f.Name != Name) continue;
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
