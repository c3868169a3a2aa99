#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of the mmf command: they run the built binary (MMF=path) and check
exit codes, standard output byte for byte, and the one-line messages."""
import base64
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import unittest

MMF = os.environ.get("MMF", "build/src/cli/mmf")
# e.g. "valgrind --error-exitcode=1 --leak-check=full": every run goes through it
WRAP = shlex.split(os.environ.get("MMF_WRAPPER", ""))
SLOW = 5.0 if WRAP else 1.0   # wrappers make each start slower
PREFIX = ("%s-cli-%d-" % (os.environ["MMF_TEST_PREFIX"], os.getpid())
          if os.environ.get("MMF_TEST_PREFIX") else "mmfclitest-%d-" % os.getpid())
counter = 0


def name(tag="m"):
    global counter
    counter += 1
    return "%s%s-%d" % (PREFIX, tag, counter)


def run(*args, input=None, timeout=30):
    p = subprocess.run([*WRAP, MMF, *args], input=input, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def shm(n):
    return "/dev/shm/" + n


def mmf_lines(err):
    """mmf's own lines of stderr, without a wrapper's (valgrind's) ones."""
    return [l for l in err.split("\n") if l.startswith("mmf: ")]


class Base(unittest.TestCase):
    def tearDown(self):
        for f in os.listdir("/dev/shm"):
            if f.startswith(PREFIX):
                os.unlink(shm(f))

    def ok(self, *args, input=None):
        rc, out, err = run(*args, input=input)
        self.assertEqual(rc, 0, err)
        return out

    def one_line_error(self, err, *words):
        lines = err.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("mmf: "), err)
        for w in words:
            self.assertIn(w, lines[0])


class Help(Base):
    def test_help_lists_commands(self):
        out = self.ok("help").decode()
        for verb in ("new", "write", "read", "wait", "lock", "save", "remove",
                     "info", "list", "cat"):
            self.assertIn("  " + verb, out)
        self.assertEqual(self.ok("--help").decode(), out)

    def test_every_command_has_help_with_example(self):
        for verb in ("new", "write", "read", "wait", "lock", "save", "remove",
                     "info", "list", "cat", "help"):
            out = self.ok(verb, "--help").decode()
            self.assertTrue(out.startswith("usage: mmf " + verb), out)
            self.assertIn("example", out)
            self.assertEqual(self.ok("help", verb).decode(), out)

    def test_version(self):
        self.assertRegex(self.ok("--version").decode(), r"^mmf \d+\.\d+\.\d+\n$")

    def test_unknown_command(self):
        rc, out, err = run("raed", "x")
        self.assertEqual(rc, 2)
        self.assertEqual(out, b"")
        self.one_line_error(err, "did you mean 'read'")
        rc, out, err = run()
        self.assertEqual(rc, 2)

    def test_unknown_option(self):
        rc, out, err = run("read", "x", "--bogus")
        self.assertEqual(rc, 2)
        self.one_line_error(err, "--bogus")
        rc, out, err = run("new", "x", "--size")
        self.assertEqual(rc, 2)
        self.one_line_error(err, "needs a value")


class New(Base):
    def test_sizes(self):
        for text, size in (("4096", 4096), ("64K", 65536), ("64KiB", 65536),
                           ("1M", 1 << 20), ("2G", 2 << 30), ("1T", 1 << 40)):
            if WRAP and size > 1 << 32:
                continue   # valgrind cannot map terabytes of address space
            n = name()
            self.ok("new", n, "--size", text)
            info = json.loads(self.ok("info", n, "--json"))
            self.assertEqual(info["capacity"], size)
            self.assertEqual(info["kind"], "mmf")
            self.assertEqual(info["length"], 0)
            self.assertEqual(info["seq"], 0)
            self.assertEqual(info["mode"], "0600")

    def test_bad_sizes_are_usage_errors(self):
        for bad in ("0", "-1", "4X", "", "K", "99999999999999999999",
                    "17000000T", "0x10", " 5", "5 ", "1.", ".5K", "1.5KX",
                    "64Kb2", "64KiBB", "0.0K", "1e3"):
            n = name()
            rc, out, err = run("new", n, "--size", bad)
            self.assertEqual(rc, 2, bad)
            self.assertEqual(out, b"")
            self.one_line_error(err)
            self.assertFalse(os.path.exists(shm(n)), bad)

    def test_one_size_grammar(self):
        # K, M, G, T in any case, with or without B or iB; fractions; all
        # 1024-based; rounded up to a whole byte.
        for text, size in (("64K", 65536), ("64k", 65536), ("64KB", 65536),
                           ("64kb", 65536), ("64KiB", 65536), ("64kib", 65536),
                           ("1.5M", 1572864), ("1.5m", 1572864),
                           ("0.5K", 512), ("100B", 100), ("100b", 100),
                           ("1.001K", 1026), ("2G", 2 << 30)):
            n = name()
            self.ok("new", n, "--size", text)
            info = json.loads(self.ok("info", n, "--json"))
            self.assertEqual(info["capacity"], size, text)

    def test_exists_and_or_open(self):
        n = name()
        self.ok("new", n, "--size", "100")
        self.ok("write", n, "keep")
        rc, out, err = run("new", n, "--size", "100")
        self.assertEqual(rc, 1)
        self.one_line_error(err, n, "exists", "--or-open")
        self.ok("new", n, "--size", "5000", "--or-open")
        self.assertEqual(self.ok("read", n), b"keep")
        info = json.loads(self.ok("info", n, "--json"))
        self.assertEqual(info["capacity"], 100)

    def test_mode(self):
        n = name()
        self.ok("new", n, "--size", "1K", "--mode", "640")
        self.assertEqual(os.stat(shm(n)).st_mode & 0o777, 0o640)
        for bad in ("999", "8", "abc", "01777", "0"):
            rc, _, err = run("new", name(), "--size", "1K", "--mode", bad)
            self.assertEqual(rc, 2, bad)

    def test_bad_names(self):
        for bad in (".", "..", ".mmf-tmp-x", "x" * 256):
            rc, out, err = run("new", "--size", "1K", "--", bad)
            self.assertEqual(rc, 2, bad)
            self.one_line_error(err, "valid map name")

    def test_raw(self):
        n = name()
        self.ok("new", n, "--size", "100", "--raw")
        self.assertEqual(os.stat(shm(n)).st_size, 100)
        info = json.loads(self.ok("info", n, "--json"))
        self.assertEqual(info["kind"], "raw")


    def test_warns_when_the_store_is_too_small(self):
        st = os.statvfs("/dev/shm")
        avail = st.f_bavail * st.f_frsize
        cap = (avail // 2 + (1 << 30)) >> 20 << 20   # two slots pass it
        n = name()
        rc, out, err = run("new", n, "--size", str(cap))
        self.assertEqual(rc, 0, err)
        self.one_line_error(err, "warning", "two slots", "--compact")
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["capacity"],
                         cap)
        rc, out, err = run("new", name(), "--size", "1M")
        self.assertEqual((rc, err), (0, ""))
        # compact: one slot at rest; raw: the capacity
        rc, out, err = run("new", name(), "--size", str(cap), "--compact")
        self.assertEqual((rc, err), (0, ""))
        rc, out, err = run("new", name(), "--size", str(avail + (1 << 30)),
                           "--compact")
        self.one_line_error(err, "warning", "one slot")
        rc, out, err = run("new", name(), "--size", str(avail + (1 << 30)),
                           "--raw")
        self.one_line_error(err, "warning", "its capacity")
        # an existing map opened with --or-open: no word
        rc, out, err = run("new", n, "--size", str(cap), "--or-open")
        self.assertEqual((rc, err), (0, ""))

    def test_compact(self):
        held = {}
        for flags in ((), ("--compact",)):
            n = name()
            self.ok("new", n, "--size", "64M", *flags)
            self.ok("write", n, input=b"x" * (32 << 20))
            self.ok("write", n, input=b"y" * (32 << 20))
            self.assertEqual(self.ok("read", n), b"y" * (32 << 20))
            held[flags] = os.stat(shm(n)).st_blocks * 512
            self.ok("remove", n)
        # at rest less than two contents' storage (without: both slots)
        self.assertLess(held[("--compact",)], 64 << 20)
        self.assertGreaterEqual(held[()], 64 << 20)
        rc, out, err = run("new", name(), "--size", "1M", "--compact", "--raw")
        self.assertEqual(rc, 2)
        self.one_line_error(err, "--compact")
        self.assertIn(b"--compact", self.ok("new", "--help"))
        self.assertIn(b"two slots", self.ok("new", "--help"))


class WriteRead(Base):
    def test_words_exactly(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "hello", "big", "world")
        self.assertEqual(self.ok("read", n), b"hello big world")
        self.ok("write", n, "--", "-dash")
        self.assertEqual(self.ok("read", n), b"-dash")

    def test_binary_round_trip_pipe_and_file(self):
        n = name()
        self.ok("new", n, "--size", "1M")
        data = bytes(random.getrandbits(8) for _ in range(300000))
        self.ok("write", n, input=data)
        self.assertEqual(self.ok("read", n), data)
        with tempfile.TemporaryFile() as f:
            f.write(data[::-1])
            f.seek(0)
            p = subprocess.run([*WRAP, MMF, "write", n], stdin=f, capture_output=True)
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.ok("read", n), data[::-1])
        self.ok("write", n, input=b"")
        self.assertEqual(self.ok("read", n), b"")

    def test_read_into_a_file(self):
        n = name()
        self.ok("new", n, "--size", "1M")
        data = os.urandom(200000)
        self.ok("write", n, input=data)
        with tempfile.TemporaryFile() as f:
            f.write(b"prefix")
            f.flush()
            p = subprocess.run([*WRAP, MMF, "read", n], stdout=f,
                               stderr=subprocess.PIPE)
            self.assertEqual(p.returncode, 0, p.stderr)
            f.seek(0)
            self.assertEqual(f.read(), b"prefix" + data)

    def test_over_capacity_changes_nothing(self):
        n = name()
        self.ok("new", n, "--size", "4096")
        self.ok("write", n, "old")
        seq = json.loads(self.ok("info", n, "--json"))["seq"]
        with tempfile.TemporaryFile() as f:
            f.write(b"x" * 5000)
            f.seek(0)
            p = subprocess.run([*WRAP, MMF, "write", n], stdin=f, capture_output=True)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(p.stderr.decode(), "mmf: write %s: 5000 bytes do not "
                         "fit the 4096-byte capacity; nothing was written\n" % n)
        rc, out, err = run("write", n, input=b"y" * 5000)
        self.assertEqual(rc, 1)
        self.one_line_error(err, n, "4096-byte capacity", "nothing was written")
        rc, out, err = run("write", n, "z" * 5000)
        self.assertEqual(rc, 1)
        self.one_line_error(err, "5000 bytes do not fit the 4096-byte capacity")
        self.assertEqual(self.ok("read", n), b"old")
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["seq"], seq)
        # Exactly the capacity fits.
        self.ok("write", n, input=b"e" * 4096)
        self.assertEqual(self.ok("read", n), b"e" * 4096)

    def test_append(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "--append", "first")
        self.ok("write", n, "--append", "second")
        self.ok("write", n, "--append", "--separator", ", ", "third")
        self.assertEqual(self.ok("read", n), b"first\nsecond, third")
        self.ok("write", n, "--append", input=b"\x00tail")
        self.assertEqual(self.ok("read", n), b"first\nsecond, third\n\x00tail")
        rc, _, err = run("write", n, "--append", "x" * 1100)
        self.assertEqual(rc, 1)
        self.one_line_error(err, "capacity", "nothing was written")

    def test_missing_map(self):
        n = name()
        for args in (("read", n), ("write", n, "x"), ("info", n),
                     ("save", n, "/tmp/x"), ("remove", n), ("wait", n),
                     ("lock", n, "--", "true")):
            rc, out, err = run(*args)
            self.assertEqual(rc, 1, args)
            self.assertEqual(out, b"")
            self.one_line_error(err, n, "no such map",
                                "nothing to remove" if args[0] == "remove"
                                else "mmf new")

    def test_broken_header_is_an_error_not_raw(self):
        n = name()
        with open(shm(n), "wb") as f:
            f.write(b"MMF\x1amap\x00" + b"\x00" * 100)   # magic, then too short
        for args in (("read", n), ("write", n, "x"), ("info", n)):
            rc, out, err = run(*args)
            self.assertEqual(rc, 1, args)
            self.one_line_error(err, n, "header is broken")
        self.assertEqual(os.path.getsize(shm(n)), 108)

    def test_raw_ranges(self):
        n = name()
        self.ok("new", n, "--size", "64", "--raw")
        self.ok("write", n, "0123456789")
        out = self.ok("read", n)
        self.assertEqual(len(out), 64)
        self.assertEqual(out[:10], b"0123456789")
        self.assertEqual(self.ok("read", n, "--offset", "3", "--length", "4"),
                         b"3456")
        rc, _, err = run("read", n, "--offset", "60", "--length", "5")
        self.assertEqual(rc, 1)
        self.one_line_error(err, "passes the end")
        rc, _, err = run("write", n, "x" * 65)
        self.assertEqual(rc, 1)

    def test_python_shared_memory_is_raw(self):
        n = name("py")
        code = ("from multiprocessing import shared_memory, resource_tracker\n"
                "s = shared_memory.SharedMemory(name=%r, create=True, size=32)\n"
                "s.buf[:5] = b'py!!!'\n"
                "resource_tracker.unregister(s._name, 'shared_memory')\n"
                "s.close()\n" % n)
        subprocess.run([sys.executable, "-c", code], check=True)
        self.assertEqual(self.ok("read", n, "--length", "5"), b"py!!!")
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["kind"], "raw")
        # and the other way: Python reads what mmf wrote to a raw map
        self.ok("write", n, "hello")
        code = ("from multiprocessing import shared_memory, resource_tracker\n"
                "s = shared_memory.SharedMemory(name=%r)\n"
                "print(bytes(s.buf[:5]).decode())\n"
                "resource_tracker.unregister(s._name, 'shared_memory')\n"
                "s.close()\n" % n)
        out = subprocess.run([sys.executable, "-c", code], check=True,
                             capture_output=True).stdout
        self.assertEqual(out, b"hello\n")


class Files(Base):
    def test_save(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, input=b"a\x00b\xff")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "out.bin")
            self.ok("save", n, path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"a\x00b\xff")
            self.assertEqual(sorted(os.listdir(d)), ["out.bin"])
            rc, _, err = run("save", n, os.path.join(d, "no/such/x"))
            self.assertEqual(rc, 1)
            self.one_line_error(err, n, "cannot save")

    def test_path_maps(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "persist.mmf")
            self.ok("new", path, "--size", "1K")
            self.ok("write", path, "on disk")
            self.assertEqual(self.ok("read", path), b"on disk")
            self.assertEqual(json.loads(self.ok("info", path, "--json"))["kind"],
                             "mmf")
            other = os.path.join(d, "plain.txt")
            with open(other, "wb") as f:
                f.write(b"plain bytes")
            self.assertEqual(self.ok("read", other), b"plain bytes")
            self.assertEqual(json.loads(self.ok("info", other, "--json"))["kind"],
                             "file")
            rc, _, err = run("remove", other)
            self.assertEqual(rc, 1)
            self.assertTrue(os.path.exists(other))
            self.ok("remove", path)
            self.assertFalse(os.path.exists(path))

    def test_cat_ranges(self):
        data = os.urandom(100000)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            self.assertEqual(self.ok("cat", f.name), data)
            for off, ln in ((0, 1), (4095, 2), (99999, 1), (50000, 50000),
                            (100000, 0)):
                self.assertEqual(self.ok("cat", f.name, "--offset", str(off),
                                         "--length", str(ln)),
                                 data[off:off + ln])
            self.assertEqual(self.ok("cat", f.name, "--offset", "99990"),
                             data[99990:])
            rc, out, err = run("cat", f.name, "--offset", "99999", "--length",
                               "2")
            self.assertEqual(rc, 1)
            self.assertEqual(out, b"")
            self.one_line_error(err, "passes the end")
        rc, _, err = run("cat", "/nonexistent/file")
        self.assertEqual(rc, 1)
        with tempfile.NamedTemporaryFile() as f:
            self.assertEqual(self.ok("cat", f.name), b"")


class Listing(Base):
    HOSTILE = [b'quo"te', b"back\\slash", b"new\nline", b"ctl\x01\x1f",
               b"bad\xff\xfeutf8", "ünïcode".encode(), b"tab\there"]

    def test_info_and_list_json(self):
        n = name()
        self.ok("new", n, "--size", "2K", "--mode", "644")
        self.ok("write", n, "12345")
        info = json.loads(self.ok("info", n, "--json"))
        for k in ("name", "kind", "capacity", "length", "seq", "mode", "owner",
                  "holders", "modified"):
            self.assertIn(k, info)
        self.assertEqual(info["name"], n)
        self.assertEqual((info["capacity"], info["length"], info["seq"]),
                         (2048, 5, 1))
        self.assertEqual(info["mode"], "0644")
        text = self.ok("info", n).decode()
        self.assertRegex(text, r"capacity\s+2 KiB\n")
        self.assertRegex(text, r"length\s+5 B\n")
        text = self.ok("info", n, "--bytes").decode()
        self.assertRegex(text, r"capacity\s+2048\n")
        self.assertRegex(text, r"object\s+\d+\n")
        self.assertRegex(text, r"seq\s+1")
        listing = json.loads(self.ok("list", "--json"))
        self.assertIsInstance(listing, list)
        mine = [x for x in listing if x["name"] == n]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["length"], 5)
        table = self.ok("list").decode()
        self.assertTrue(table.startswith("NAME"))
        self.assertIn(n, table)

    def test_hostile_names(self):
        made = []
        for raw in self.HOSTILE:
            path = b"/dev/shm/" + PREFIX.encode() + raw
            with open(path, "wb") as f:
                f.write(b"x" * 10)
            made.append(PREFIX.encode() + raw)
        try:
            out = self.ok("list", "--json")
            listing = json.loads(out)   # must parse
            found = [x for x in listing if x["name"].startswith(PREFIX)]
            self.assertEqual(len(found), len(self.HOSTILE))
            for x in found:
                self.assertEqual(x["kind"], "raw")
                self.assertEqual(x["capacity"], 10)
            # name_hex is always there, and addresses every object.
            hexes = {bytes.fromhex(x["name_hex"]) for x in found}
            self.assertIn(PREFIX.encode() + b"bad\xff\xfeutf8", hexes)
            for x in found:
                h = x["name_hex"]
                info = json.loads(self.ok("info", "--name-hex", h, "--json"))
                self.assertEqual(info["name_hex"], h)
                self.assertEqual(self.ok("read", "--name-hex", h), b"x" * 10)
            exact = {x["name"] for x in found}
            self.assertIn(PREFIX + 'quo"te', exact)
            self.assertIn(PREFIX + "new\nline", exact)
            self.assertIn(PREFIX + "ctl\x01\x1f", exact)
            # the table stays one line per object
            table = self.ok("list").decode("utf-8", "replace")
            rows = [l for l in table.split("\n") if PREFIX in l]
            self.assertEqual(len(rows), len(self.HOSTILE))
        finally:
            for m in made:
                os.unlink(b"/dev/shm/" + m)


def shell_word(text):
    """The first word of `text` as bash reads it (quotes, $'...')."""
    return subprocess.run(["bash", "-c", 'eval "set -- $1"; printf %s "$1"',
                           "_", text], capture_output=True, check=True).stdout


class Quoting(Base):
    """Names are printed as ls quotes them: bare when plain, else quoted so
    that a shell reads back the very bytes, on one line."""
    NAMES = Listing.HOSTILE + [b"it's", b"sp ace", b"$HOME", b"x'y\"z",
                               b"\xc2\x9b", b"star*", b"bell\x07\x1b[0m"]

    def test_list_and_info_tables_quote_names(self):
        made = [PREFIX.encode() + raw for raw in self.NAMES]
        for m in made:
            with open(b"/dev/shm/" + m, "wb") as f:
                f.write(b"x")
        try:
            table = self.ok("list")
            self.assertNotIn(b"\x1b", table)
            self.assertNotIn(b"\x07", table)
            rows = [l for l in table.split(b"\n") if PREFIX.encode() in l]
            self.assertEqual(len(rows), len(made))
            self.assertEqual(sorted(shell_word(r) for r in rows), sorted(made))
            for m in made:
                out = self.ok("info", "--name-hex", m.hex())
                line = out.split(b"\n")[0]
                self.assertTrue(line.startswith(b"name       "), out)
                self.assertEqual(shell_word(line[len(b"name "):]), m)
                # JSON stays valid and exact where the name is UTF-8.
                info = json.loads(self.ok("info", "--name-hex", m.hex(),
                                          "--json"))
                self.assertEqual(bytes.fromhex(info["name_hex"]), m)
                try:
                    self.assertEqual(info["name"], m.decode())
                except UnicodeDecodeError:
                    pass
        finally:
            for m in made:
                os.unlink(b"/dev/shm/" + m)

    def test_plain_names_stay_bare(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.assertIn("\n" + n + " ", self.ok("list").decode())
        rc, out, err = run("read", n + "-missing")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("mmf: read %s-missing: " % n), err)

    def test_messages_quote_names(self):
        for raw in (b"sp ace", b"new\nline", b"it's", b"esc\x1b[31m"):
            m = PREFIX.encode() + raw
            rc, out, err = run("info", "--name-hex", m.hex())
            self.assertEqual(rc, 1)
            self.one_line_error(err, "no such map")
            self.assertNotIn("\x1b", err)
            word = err[len("mmf: info "):].rsplit(": no such map", 1)[0]
            self.assertEqual(shell_word(word.encode()), b"/dev/shm/" + m)
            # Refused as a name, or not found: one line either way.
            rc, out, err = run("info", m.decode())
            self.assertIn(rc, (1, 2))
            self.one_line_error(err)
            self.assertNotIn("\x1b", err)


class Conventions(Base):
    def test_getopt_long_forms(self):
        n = name()
        self.ok("new", "--size=1K", n)           # --opt=value, operand after
        self.ok("new", n, "--si", "1K", "--or-open")  # unambiguous prefix
        rc, out, err = run("new", n, "--size")
        self.assertEqual(rc, 2)
        self.one_line_error(err, "needs a value")
        rc, out, err = run("info", n, "--json=1")
        self.assertEqual(rc, 2)
        self.one_line_error(err, "takes no value")
        rc, out, err = run("info", n, "--nope")
        self.assertEqual(rc, 2)
        self.one_line_error(err, "--nope")
        self.ok("write", n, "--", "-dash-")      # after --, an operand
        self.assertEqual(self.ok("read", n), b"-dash-")

    def test_remove_force(self):
        n = name()
        rc, out, err = run("remove", n)
        self.assertEqual(rc, 1)
        self.ok("remove", "-f", n)
        self.ok("remove", "--force", n)
        self.ok("new", n, "--size", "1K")
        self.ok("remove", "-f", n)
        self.assertFalse(os.path.exists(shm(n)))

    def test_remove_by_name_hex(self):
        raw = PREFIX.encode() + b".lead sp\x01"
        n = name()
        self.ok("new", n, "--size", "1K")
        os.rename(shm(n).encode(), b"/dev/shm/" + raw)
        self.ok("info", raw.decode("latin-1"))   # a valid name as typed, too
        self.ok("remove", "--name-hex", raw.hex())
        self.assertFalse(os.path.exists(b"/dev/shm/" + raw))
        rc, out, err = run("info", "--name-hex", "zz")
        self.assertEqual(rc, 2)
        rc, out, err = run("info", "--name-hex", "2f")   # '/'
        self.assertEqual(rc, 2)

    def test_usage_errors_escape_what_was_typed(self):
        rc, out, err = run("info", "bad\x1b[31mname\nx")   # no such map
        self.assertEqual(rc, 1)
        self.assertNotIn("\x1b", err)
        self.assertEqual(err.count("\n"), 1)
        self.assertIn("\\x1b", err)

    def test_final_newline_only_on_a_terminal(self):
        import pty
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "no newline")
        self.assertEqual(self.ok("read", n), b"no newline")   # a pipe: exact
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(MMF, [MMF, "read", n])
        got = b""
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        os.waitpid(pid, 0)
        self.assertEqual(got.replace(b"\r\n", b"\n"), b"no newline\n")


class Json(Base):
    INFO_KEYS = {"name", "name_hex", "kind", "capacity", "length", "seq",
                 "object_size", "mode", "owner", "uid", "gid", "modified",
                 "changed", "transient", "holders", "lock_pid", "holder_pids",
                 "holders_hidden", "orphaned", "error"}

    def test_one_schema_per_command(self):
        n, r = name(), name()
        new = json.loads(self.ok("new", n, "--size", "1K", "--json"))
        self.assertEqual(set(new), self.INFO_KEYS)
        self.ok("new", r, "--size", "16", "--raw")
        mmf_info = json.loads(self.ok("info", n, "--json"))
        raw_info = json.loads(self.ok("info", r, "--json"))
        # The same keys whatever the kind; null where they do not apply.
        self.assertEqual(set(mmf_info), self.INFO_KEYS)
        self.assertEqual(set(raw_info), self.INFO_KEYS)
        for k in ("seq", "transient", "holders", "lock_pid"):
            self.assertIsNone(raw_info[k], k)
        self.assertEqual(mmf_info["seq"], 0)
        for x in json.loads(self.ok("list", "--json")):
            self.assertEqual(set(x), self.INFO_KEYS)
        w = json.loads(self.ok("write", n, "hello", "--json"))
        self.assertEqual(w, {"name": n, "length": 5, "seq": 1})
        self.assertEqual(json.loads(self.ok("write", r, "x", "--json"))["seq"], None)
        rc, out, err = run("wait", n, "--after", "0", "--json")
        self.assertEqual(json.loads(out), {"name": n, "seq": 1})
        f = os.path.join(tempfile.mkdtemp(), "saved")
        self.assertEqual(json.loads(self.ok("save", n, f, "--json")),
                         {"name": n, "file": f, "length": 5})
        rd = json.loads(self.ok("read", n, "--json"))
        self.assertEqual(rd, {"seq": 1, "length": 5, "appended": False,
                              "data": "hello", "data_base64": None})
        rc, out, err = run("remove", n, r, n, "--json")
        self.assertEqual(rc, 1)
        got = json.loads(out)
        self.assertEqual([(x["name"], x["removed"]) for x in got],
                         [(n, True), (r, True), (n, False)])
        self.assertIsNone(got[0]["error"])
        self.assertIsInstance(got[2]["error"], str)


class Review(Base):
    def test_save_never_replaces_what_is_not_a_regular_file(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "content")
        d = tempfile.mkdtemp()
        fifo, link, dev = os.path.join(d, "f"), os.path.join(d, "l"), os.path.join(d, "null")
        os.mkfifo(fifo)
        os.symlink("/etc/hostname", link)
        if os.getuid() == 0:
            os.mknod(dev, 0o666 | 0o020000, os.makedev(1, 3))
        for target in (fifo, link) + ((dev,) if os.getuid() == 0 else ()):
            rc, out, err = run("save", n, target)
            self.assertEqual(rc, 1, target)
            self.one_line_error(err, n, "not a regular file")
        self.assertTrue(os.path.islink(link))
        import stat
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        keep = os.path.join(d, "keep")
        with open(keep, "w") as f:
            f.write("old")
        os.chmod(keep, 0o640)
        self.ok("save", n, keep)
        self.assertEqual(oct(os.stat(keep).st_mode & 0o777), oct(0o640))
        new = os.path.join(d, "new")
        self.ok("save", n, new)   # an owner-only map: an owner-only file
        self.assertEqual(oct(os.stat(new).st_mode & 0o777), oct(0o600))

    def test_name_hex_reaches_raw_objects_as_raw(self):
        n = name()
        self.ok("new", n, "--size", "16", "--raw")
        h = n.encode().hex()
        info = json.loads(self.ok("info", "--name-hex", h, "--json"))
        self.assertEqual(info["kind"], "raw")
        rc, out, err = run("remove", "--name-hex", h, "--name-hex", h)
        self.assertEqual(rc, 2)
        self.ok("remove", "--name-hex", h)
        self.assertFalse(os.path.exists(shm(n)))

    def test_escapes_in_every_message(self):
        for args in ([b"\x1b]0;x\x07"], [b"save", b"nosuchmap", b"/tmp/\x1b[31mX/y"]):
            rc, out, err = run(*args)
            self.assertNotIn("\x1b", err)


class Follow(Base):
    def test_follow_prints_each_appended_byte_once(self):
        n = name()
        self.ok("new", n, "--size", "1M")
        self.ok("write", n, "first")
        p = subprocess.Popen([*WRAP, MMF, "read", n, "--follow", "--timeout",
                              "120", "--seq"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.3 * SLOW)
        for i in range(50):
            self.ok("write", n, "--append", "line %d" % i)
        time.sleep(0.3 * SLOW)
        self.ok("write", n, "replaced")
        time.sleep(0.3 * SLOW)
        self.ok("write", n, "--append", "after")
        # Time for the follower to print the last content (a sanitized build
        # is slower), then it is stopped as a user would.
        time.sleep(1.0 * SLOW)
        p.terminate()
        out, err = p.communicate(timeout=30)
        want = "first\n" + "\n".join("line %d" % i for i in range(50))
        self.assertEqual(out.decode(), want + "replaced\nafter")
        err = err.decode()
        self.assertIn("replaced (seq 52)", err)
        seqs = [int(l.split()[1]) for l in err.splitlines() if l.startswith("seq ")]
        self.assertEqual(seqs[0], 1)
        self.assertEqual(seqs[-1], 53)
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_follow_json(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "a")
        self.ok("write", n, "--append", "b")
        out = self.ok("read", n, "--follow", "--json", "--timeout", "0.2")
        rows = [json.loads(l) for l in out.decode().splitlines()]
        self.assertEqual(rows, [{"seq": 2, "length": 3, "appended": False,
                                 "data": "a\nb", "data_base64": None}])
        self.ok("write", n, b"bin\xff")
        row = json.loads(self.ok("read", n, "--json"))
        self.assertEqual(row["seq"], 3)
        self.assertEqual(base64.b64decode(row["data_base64"]), b"bin\xff")
        self.assertIsNone(row["data"])

    def test_wait_seq_chains_exactly(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "one")
        rc, out, err = run("read", n, "--seq")
        self.assertEqual((rc, out, err), (0, b"one", "seq 1\n"))
        p = subprocess.Popen([*WRAP, MMF, "read", n, "--wait", "--after", "1",
                              "--seq", "--timeout", "10"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.3 * SLOW)
        self.ok("write", n, "two")
        out, err = p.communicate(timeout=30)
        self.assertEqual((p.returncode, out, err), (0, b"two", b"seq 2\n"))

    def test_follow_ends_when_its_reader_goes(self):
        for several in (False, True):
            n, other = name(), name()
            for m in (n, other):
                self.ok("new", m, "--size", "1K")
                self.ok("write", m, "hello")
            names = [n, other] if several else [n]
            t0 = time.time()
            # No write comes: only the pipe's hang-up can end it in time.
            p = sh('$MMF read "$@" --follow --timeout 60 | head -c 1; '
                   'echo " ${PIPESTATUS[0]}"', *names, timeout=20 * SLOW)
            self.assertEqual(p.stdout[1:], b" 141\n", p.stderr)
            self.assertEqual(mmf_lines(p.stderr.decode()), [], p.stderr)
            self.assertLess(time.time() - t0, 10 * SLOW)

    def test_follow_ends_quietly_with_sigpipe_ignored(self):
        # An adversary's case: a reader gone before the first content was
        # printed, SIGPIPE ignored: EPIPE ends it as SIGPIPE would have.
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "hello")
        p = sh("trap '' PIPE; $MMF read \"$@\" --follow --timeout 5 | true; "
               'echo "${PIPESTATUS[0]}"', n, timeout=20 * SLOW)
        self.assertEqual(p.stdout, b"141\n", p.stderr)
        self.assertEqual(mmf_lines(p.stderr.decode()), [], p.stderr)

    def test_follow_a_map_replaced_then_removed(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "old")
        p = subprocess.Popen([*WRAP, MMF, "read", n, "--follow", "--timeout",
                              "60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5 * SLOW)
        # Another map renamed into place: the name leads elsewhere at once.
        tmp = name()
        self.ok("new", tmp, "--size", "1K")
        self.ok("write", tmp, "new")
        os.rename(shm(tmp), shm(n))
        time.sleep(2.5 * SLOW)   # noticed within a second or so
        self.ok("write", n, "--append", "more")
        time.sleep(0.5 * SLOW)
        self.ok("remove", n)
        out, err = p.communicate(timeout=20 * SLOW)
        err = err.decode()
        self.assertEqual(p.returncode, 1, err)
        self.assertEqual(out, b"oldnew\nmore")
        lines = mmf_lines(err)
        self.assertEqual(len(lines), 2, err)
        self.assertIn("%s was replaced" % n, lines[0])
        self.assertIn("%s was removed" % n, lines[1])

    def test_wait_for_a_map_removed_or_replaced(self):
        for several, again in ((False, False), (False, True), (True, True)):
            n, other = name(), name()
            for m in (n, other):
                self.ok("new", m, "--size", "1K")
            args = ["wait", n, other] if several else ["wait", n]
            p = subprocess.Popen([*WRAP, MMF, *args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            time.sleep(0.5 * SLOW)
            self.ok("remove", n)
            if again:
                self.ok("new", n, "--size", "1K")
            try:
                out, err = p.communicate(timeout=10 * SLOW)
            finally:
                p.kill()
            self.assertEqual((p.returncode, out), (1, b""), err)
            self.one_line_error("\n".join(mmf_lines(err.decode())), "wait",
                                "%s was removed (or replaced) while waiting" % n)
        n = name()
        self.ok("new", n, "--size", "1K")
        p = subprocess.Popen([*WRAP, MMF, "read", n, "--wait"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5 * SLOW)
        self.ok("remove", n)
        out, err = p.communicate(timeout=10 * SLOW)
        self.assertEqual((p.returncode, out), (1, b""), err)
        self.one_line_error("\n".join(mmf_lines(err.decode())), "read",
                            "removed (or replaced)")

    def test_follow_needs_an_mmf_map(self):
        n = name()
        self.ok("new", n, "--size", "16", "--raw")
        rc, out, err = run("read", n, "--follow", "--timeout", "0.1")
        self.assertEqual(rc, 1)
        rc, out, err = run("read", n, "--follow", "--wait")
        self.assertEqual(rc, 2)

    def test_follow_several_maps_prefixes_each_line(self):
        a, b = name("fa"), name("fb")
        for n in (a, b):
            self.ok("new", n, "--size", "1K")
        self.ok("write", a, "one")
        p = subprocess.Popen([*WRAP, MMF, "read", a, b, "--follow", "--timeout",
                              "120", "--seq"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.3 * SLOW)
        self.ok("write", b, "two\nlines")
        time.sleep(0.3 * SLOW)
        self.ok("write", a, "--append", "more")
        time.sleep(1.0 * SLOW)
        p.terminate()
        out, err = p.communicate(timeout=30)
        # b's empty content at first prints nothing; a's append continues
        # the line the prefix ended.
        self.assertEqual(out.decode(), "%s: one\n%s: two\n%s: lines\n%s: more\n"
                         % (a, b, b, a))
        # (valgrind's lines aside: it says it lacks futex_waitv)
        self.assertEqual([l for l in err.decode().splitlines()
                          if l.startswith((a + ": seq", b + ": seq"))],
                         ["%s: seq 1" % a, "%s: seq 0" % b, "%s: seq 1" % b,
                          "%s: seq 2" % a])

    def test_follow_several_maps_json_names_them(self):
        a, b = name("fa"), name("fb")
        for n in (a, b):
            self.ok("new", n, "--size", "1K")
            self.ok("write", n, "x" + n[-1])
        out = self.ok("read", a, b, "--follow", "--json", "--timeout", "0.2")
        rows = [json.loads(l) for l in out.decode().splitlines()]
        self.assertEqual([(r["name"], r["seq"], r["data"]) for r in rows],
                         [(a, 1, "x" + a[-1]), (b, 1, "x" + b[-1])])
        # One map: no name, as before.
        row = json.loads(self.ok("read", a, "--follow", "--json",
                                 "--timeout", "0.1"))
        self.assertNotIn("name", row)

    def test_several_maps_need_follow(self):
        a, b = name("fa"), name("fb")
        for n in (a, b):
            self.ok("new", n, "--size", "1K")
        rc, out, err = run("read", a, b)
        self.assertEqual((rc, out), (2, b""))
        self.assertIn("--follow", err)
        rc, out, err = run("read", a, "nosuchmap-ev", "--follow", "--timeout", "0.1")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn("nosuchmap-ev", err)


class Coordination(Base):
    def test_write_json_reports_the_seq_it_published(self):
        n = name("ws")
        self.ok("new", n, "--size", "1K")
        f = os.path.join(tempfile.mkdtemp(), "in")
        with open(f, "wb") as fh:
            fh.write(b"from a file")
        with open(f, "rb") as fh:
            p = subprocess.run([*WRAP, MMF, "write", n, "--json"], stdin=fh,
                               capture_output=True, timeout=30)
        self.assertEqual((p.returncode, json.loads(p.stdout)["seq"]), (0, 1))
        w = json.loads(self.ok("write", n, "--append", "x", "--json"))
        self.assertEqual(w["seq"], 2)
        # Writers at once: each reports its own publication, never another's.
        procs = [subprocess.Popen(
            ["sh", "-c", 'for i in 1 2 3 4 5 6 7 8 9 10; do "$@" || exit 1; done',
             "sh", *WRAP, MMF, "write", n, "w", "--json"],
            stdout=subprocess.PIPE) for _ in range(4)]
        seqs = []
        for p in procs:
            out, _ = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0)
            seqs += [json.loads(l)["seq"] for l in out.decode().splitlines()]
        self.assertEqual(sorted(seqs), list(range(3, 43)))

    def test_wait_several_maps_names_the_one_that_changed(self):
        a, b, c = name("wa"), name("wb"), name("wc")
        for n in (a, b, c):
            self.ok("new", n, "--size", "1K")
        self.ok("write", b, "old")
        p = subprocess.Popen([*WRAP, MMF, "wait", a, b, c, "--timeout", "10"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.3 * SLOW)
        self.ok("write", c, "go")
        out, err = p.communicate(timeout=30)
        self.assertEqual((p.returncode, out), (0, ("%s 1\n" % c).encode()))
        self.assertEqual(self.ok("wait", a, b, "--after", "0"),
                         ("%s 1\n" % b).encode())
        w = json.loads(self.ok("wait", a, b, c, "--after", "0", "--json"))
        self.assertEqual(w, {"name": b, "seq": 1})
        t0 = time.monotonic()
        rc, out, err = run("wait", a, b, c, "--timeout", "0.3")
        self.assertEqual((rc, out), (3, b""))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertIn("timed out after", err)
        raw = name("wr")
        self.ok("new", raw, "--size", "16", "--raw")
        rc, out, err = run("wait", a, raw, "--timeout", "0.1")
        self.assertEqual(rc, 1)
        self.assertIn("raw", err)

    def test_wait_timeout_and_wake(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        t0 = time.monotonic()
        rc, out, err = run("wait", n, "--timeout", "0.3")
        self.assertEqual(rc, 3)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.one_line_error(err, n, "timed out after")
        p = subprocess.Popen([*WRAP, MMF, "wait", n, "--timeout", "10"],
                             stdout=subprocess.PIPE)
        time.sleep(0.3 * SLOW)
        self.ok("write", n, "go")
        out, _ = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(out, b"1\n")
        self.assertEqual(self.ok("wait", n, "--after", "0"), b"1\n")

    def test_read_wait(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "old")
        p = subprocess.Popen([*WRAP, MMF, "read", n, "--wait", "--timeout", "10"],
                             stdout=subprocess.PIPE)
        time.sleep(0.3 * SLOW)
        self.ok("write", n, "new")
        out, _ = p.communicate(timeout=10)
        self.assertEqual((p.returncode, out), (0, b"new"))
        rc, out, _ = run("read", n, "--wait", "--timeout", "0.2")
        self.assertEqual((rc, out), (3, b""))
        self.assertEqual(self.ok("read", n, "--wait", "--after", "1"), b"new")
        rc, _, _ = run("read", n, "--after", "1")
        self.assertEqual(rc, 2)

    def test_lock_runs_command_and_passes_status(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        rc, out, err = run("lock", n, "--", "sh", "-c", "echo inside; exit 7")
        self.assertEqual((rc, out), (7, b"inside\n"))
        rc, _, err = run("lock", n, "--", "/nonexistent/cmd")
        self.assertEqual(rc, 127)
        rc, _, err = run("lock", n)
        self.assertEqual(rc, 2)

    def test_lock_raw_map(self):
        n = name()
        self.ok("new", n, "--size", "64", "--raw")
        rc, out, _ = run("lock", n, "--", "sh", "-c", "echo raw")
        self.assertEqual((rc, out), (0, b"raw\n"))

    def test_lock_timeout_and_abandon(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        holder = subprocess.Popen([*WRAP, MMF, "lock", n, "--", "sleep", "30"])
        for _ in range(100):
            info = json.loads(self.ok("info", n, "--json"))
            if info["lock_pid"]:
                break
            time.sleep(0.02)
        self.assertEqual(info["lock_pid"], holder.pid)
        rc, out, err = run("lock", n, "--timeout", "0.3", "--", "true")
        self.assertEqual(rc, 3)
        self.one_line_error(err, n, "timed out after")
        # mmf dies: its command dies too, and the next locker is told.
        child = int(subprocess.run(["pgrep", "-P", str(holder.pid)],
                                   capture_output=True).stdout.split()[0])
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        for _ in range(200):
            try:
                with open("/proc/%d/stat" % child) as f:
                    if f.read().split(") ")[1][0] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.01)
        else:
            self.fail("the command outlived mmf lock")
        t0 = time.monotonic()
        rc, out, err = run("lock", n, "--timeout", "5", "--", "true")
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, SLOW)
        self.one_line_error(err, "previous holder died")


    def test_lock_killed_kills_what_the_command_started(self):
        # The command starts a background job that writes later; mmf is
        # killed first.  The job dies before the next locker gets the lock.
        n = name()
        self.ok("new", n, "--size", "1K")
        d = tempfile.mkdtemp()
        started, late = os.path.join(d, "started"), os.path.join(d, "late")
        delay = 2 * SLOW
        holder = subprocess.Popen(
            [*WRAP, MMF, "lock", n, "--", "sh", "-c",
             "(sleep %s; echo late > %s) & touch %s; wait" %
             (delay, late, started)])
        for _ in range(1000):
            if os.path.exists(started):
                break
            time.sleep(0.01)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        rc, _, err = run("lock", n, "--timeout", "5", "--", "true")
        self.assertEqual(rc, 0)
        time.sleep(delay + 0.5)
        self.assertFalse(os.path.exists(late), "the command's job outlived mmf")


def sh(script, *args, timeout=30, wrap=True, **kw):
    """Run a bash script with $MMF the command (through the wrapper)."""
    env = dict(os.environ, MMF=shlex.join([*WRAP, MMF] if wrap else [MMF]))
    return subprocess.run(["bash", "-c", script, "_", *args], env=env,
                          capture_output=True, timeout=timeout, **kw)


def gone(pid, seconds):
    """True once pid has exited (gone, or a zombie) within `seconds`."""
    for _ in range(int(seconds * 100)):
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(") ")[1][0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return False


class Environment(Base):
    """The command in the process environment it is given: closed standard
    descriptors, inherited signal dispositions, resource limits."""

    def assert_intact(self, n, content):
        info = json.loads(self.ok("info", n, "--json"))
        self.assertEqual((info["kind"], info["error"]), ("mmf", None))
        self.assertEqual(self.ok("read", n), content)

    def test_closed_stdout_does_not_land_in_the_map(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "hello")
        sh('$MMF read "$1" <&- >&-', n)
        self.assert_intact(n, b"hello")
        sh('$MMF read "$1" --json <&- >&- 2>&-', n)
        self.assert_intact(n, b"hello")

    def test_closed_stderr_does_not_land_in_the_map(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "hello")
        # Not through valgrind, which cannot start without stderr.
        p = sh('$MMF wait "$1" --timeout 0.1 <&- 2>&-', n, wrap=False)
        self.assertEqual(p.returncode, 3)
        self.assert_intact(n, b"hello")
        sh('$MMF write "$1" --append x --json <&- >&- 2>&-', n, wrap=False)
        self.assert_intact(n, b"hello\nx")

    def test_write_with_closed_stdin_writes_nothing(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "precious")
        for extra in ([], ["--append"]):
            p = sh('$MMF write "$@" <&-', n, *extra)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.one_line_error(p.stderr.decode(), "write", n,
                                "standard input is closed", "nothing was written")
        self.assert_intact(n, b"precious")
        # Words need no stdin.
        p = sh('$MMF write "$1" words <&-', n)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_intact(n, b"words")

    def test_results_into_a_closed_stdout_are_errors(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "hello")
        for args in (["read", n], ["read", n, "--json"], ["info", n],
                     ["info", n, "--json"], ["list"], ["list", "--json"],
                     ["wait", n, "--after", "0"], ["read", n, "--follow"],
                     ["help"], ["read", "--help"], ["--version"]):
            p = sh('$MMF "$@" >&-', *args, timeout=10 * SLOW)
            self.assertEqual(p.returncode, 1, (args, p.stderr))
            self.one_line_error(p.stderr.decode(), "standard output is closed")
            if args[0] in ("read", "info", "wait") and args[1] == n:
                self.assertIn("%s %s:" % (args[0], n), p.stderr.decode())
        # An action is done; only its --json result could not be printed.
        p = sh('$MMF write "$1" again --json >&-', n)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.one_line_error(p.stderr.decode(), "standard output is closed",
                            "--json")
        self.assert_intact(n, b"again")
        # Without --json there was nothing to print.
        p = sh('$MMF write "$1" third >&-', n)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_full_stdout_names_the_map(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "hello")
        p = sh('$MMF read "$1" --json >/dev/full', n)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.one_line_error(p.stderr.decode(), "read %s:" % n,
                            "cannot write standard output")

    def test_lock_with_sigchld_ignored(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        p = subprocess.run(
            [*WRAP, MMF, "lock", n, "--", "sh", "-c", "echo in; exit 7"],
            capture_output=True, timeout=10 * SLOW,
            preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        self.assertEqual((p.returncode, p.stdout), (7, b"in\n"))
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["lock_pid"],
                         0)

    def test_lock_leaves_a_normal_exits_background_jobs_alone(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        d = tempfile.mkdtemp()
        pidfile = os.path.join(d, "pid")
        t0 = time.time()
        p = subprocess.run(
            [*WRAP, MMF, "lock", n, "--", "sh", "-c",
             "sleep 30 >/dev/null 2>&1 & echo $! > %s; exit 0" % pidfile],
            capture_output=True, timeout=20 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(time.time() - t0, 10 * SLOW)
        job = int(open(pidfile).read())
        try:
            self.assertFalse(gone(job, 0.2), "the job was killed")
            self.assertEqual(
                json.loads(self.ok("info", n, "--json"))["lock_pid"], 0)
        finally:
            os.kill(job, signal.SIGKILL)
        help = " ".join(self.ok("lock", "--help").decode().split())
        self.assertIn("left alone, as flock(1) does", help)

    def test_lock_gives_the_command_an_ignored_sigchld(self):
        if WRAP:
            self.skipTest("valgrind handles SIGCHLD itself: exec resets it")
        n = name()
        self.ok("new", n, "--size", "1K")
        p = subprocess.run(
            [*WRAP, MMF, "lock", n, "--", "grep", "^SigIgn", "/proc/self/status"],
            capture_output=True, timeout=10 * SLOW,
            preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        self.assertEqual(p.returncode, 0, p.stderr)
        ign = int(p.stdout.split()[1], 16)
        self.assertTrue(ign >> (signal.SIGCHLD - 1) & 1)

    def test_lock_keeps_inherited_ignored_signals_for_the_command(self):
        n = name()
        self.ok("new", n, "--size", "1K")

        def ignore():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGQUIT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
        p = subprocess.run(
            [*WRAP, MMF, "lock", n, "--", "grep", "^Sig[BI]", "/proc/self/status"],
            capture_output=True, timeout=10 * SLOW, preexec_fn=ignore)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = dict(l.split(":\t") for l in p.stdout.decode().split("\n") if l)
        ign, blk = int(got["SigIgn"], 16), int(got["SigBlk"], 16)
        for sig in (signal.SIGINT, signal.SIGQUIT):
            self.assertTrue(ign >> (sig - 1) & 1, "signal %d not ignored" % sig)
        self.assertFalse(ign >> (signal.SIGXFSZ - 1) & 1)
        self.assertEqual(blk, 1 << (signal.SIGUSR2 - 1))

    def test_term_to_the_group_keeps_the_lock_until_all_is_gone(self):
        # As timeout(1) does: SIGTERM to mmf lock's whole process group.  A
        # job of the command that ignores it must not outlive the lock.
        n = name()
        self.ok("new", n, "--size", "1K")
        d = tempfile.mkdtemp()
        started, late = os.path.join(d, "started"), os.path.join(d, "late")
        delay = 2 * SLOW
        holder = subprocess.Popen(
            [*WRAP, MMF, "lock", n, "--", "sh", "-c",
             "(trap '' TERM; sleep %s; echo late > %s) & touch %s; wait" %
             (delay, late, started)], start_new_session=True)
        for _ in range(1000):
            if os.path.exists(started):
                break
            time.sleep(0.01)
        os.killpg(holder.pid, signal.SIGTERM)
        rc, _, err = run("lock", n, "--timeout", str(3 * delay), "--", "sh",
                         "-c", "test -e %s && echo late-seen" % late)
        self.assertEqual(rc, 1, err)   # test -e failed: nothing wrote yet
        self.assertEqual(holder.wait(timeout=10 * SLOW), 128 + signal.SIGTERM)
        time.sleep(delay + 0.5)
        self.assertFalse(os.path.exists(late), "the command's job outlived the lock")

    def test_term_to_mmf_alone_reaches_the_command(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        d = tempfile.mkdtemp()
        started = os.path.join(d, "started")
        holder = subprocess.Popen([*WRAP, MMF, "lock", n, "--", "sh", "-c",
                                   "touch %s; exec sleep 30" % started])
        for _ in range(1000):
            if os.path.exists(started):
                break
            time.sleep(0.01)
        holder.send_signal(signal.SIGTERM)
        self.assertEqual(holder.wait(timeout=10 * SLOW), 128 + signal.SIGTERM)
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["lock_pid"],
                         0)

    def test_lock_killed_without_proc(self):
        if WRAP:
            self.skipTest("the wrapper needs /proc")
        if os.geteuid() != 0 or subprocess.run(
                ["unshare", "-m", "true"], capture_output=True).returncode:
            self.skipTest("needs unshare -m (root)")
        n = name()
        self.ok("new", n, "--size", "1K")
        d = tempfile.mkdtemp()
        pidfile = os.path.join(d, "pid")
        holder = subprocess.Popen(
            ["unshare", "-m", "sh", "-c",
             'mount -t tmpfs none /proc && exec "$@"', "_", MMF, "lock", n,
             "--", "sh", "-c", "echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 30"
             % (pidfile, pidfile, pidfile)])
        for _ in range(1000):
            if os.path.exists(pidfile):
                break
            time.sleep(0.01)
        cmd = int(open(pidfile).read())
        with open("/proc/%d/stat" % cmd) as f:
            guard = int(f.read().split(") ")[1].split()[1])
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        try:
            self.assertTrue(gone(cmd, 5), "the command outlived mmf lock")
            self.assertTrue(gone(guard, 5), "the guard stayed")
        finally:
            for pid in (cmd, guard):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        rc, _, err = run("lock", n, "--timeout", "5", "--", "true")
        self.assertEqual(rc, 0, err)

    def test_lock_held_for_a_leftover_job_without_proc(self):
        # An adversary's case: without /proc, what the killed holder's
        # command left running cannot be named, only waited for; the lock
        # must stay held until it ends (the guard shares the handle).
        if WRAP:
            self.skipTest("the wrapper needs /proc")
        if os.geteuid() != 0 or subprocess.run(
                ["unshare", "-m", "true"], capture_output=True).returncode:
            self.skipTest("needs unshare -m (root)")
        n = name()
        self.ok("new", n, "--size", "1K")
        d = tempfile.mkdtemp()
        started = os.path.join(d, "started")
        holder = subprocess.Popen(
            ["unshare", "-m", "sh", "-c",
             'mount -t tmpfs none /proc && exec "$@"', "_", MMF, "lock", n,
             "--", "sh", "-c",
             "sleep 3 & touch %s; exec sleep 30" % started])
        for _ in range(1000):
            if os.path.exists(started):
                break
            time.sleep(0.01)
        time.sleep(0.1)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        t0 = time.monotonic()
        rc, _, err = run("lock", n, "--timeout", "1", "--", "true")
        self.assertNotEqual(rc, 0, "the lock was free while the job ran")
        rc, _, err = run("lock", n, "--timeout", "10", "--", "true")
        self.assertEqual(rc, 0, err)
        self.assertGreater(time.monotonic() - t0, 1.5)

    def test_read_into_a_pipe_past_ulimit_f(self):
        n = name()
        data = bytes(random.getrandbits(8) for _ in range(300000))
        self.ok("new", n, "--size", "1M")
        self.ok("write", n, input=data)
        p = sh('set -o pipefail; ulimit -f 100; $MMF read "$1" | wc -c', n)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, b"300000"),
                         p.stderr)
        p = sh('ulimit -f 100; $MMF read "$1" | cat', n)
        self.assertEqual(p.stdout, data)
        # Into a file, the limit is the limit: a message, not a signal.
        with tempfile.TemporaryDirectory() as d:
            p = sh('ulimit -f 100; $MMF read "$1" > "$2"', n,
                   os.path.join(d, "out"))
            self.assertEqual(p.returncode, 1, p.stderr)
            self.one_line_error(p.stderr.decode(), "read")


def columns_of(text):
    """Terminal columns a str takes (East Asian wide characters: two)."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


class Tables(Base):
    """lsipc's table options, through libsmartcols."""

    def test_output_columns_and_forms(self):
        n = name()
        self.ok("new", n, "--size", "2K")
        self.ok("write", n, "abc")
        rows = self.ok("list", "-o", "name,length,seq", "--noheadings",
                       "--raw", "-b").decode().split("\n")
        self.assertIn("%s 3 1" % n, rows)
        out = self.ok("list", "--output", "NAME,KIND").decode()
        self.assertTrue(out.startswith("NAME"), out)
        self.assertRegex(out, r"\n%s +mmf\n" % n)
        out = self.ok("list", "-e", "-o", "name,capacity", "-b").decode()
        self.assertIn('NAME="%s" CAPACITY="2048"\n' % n, out)
        out = self.ok("info", n, "-n", "-o", "name,kind").decode()
        self.assertEqual(out, 'NAME="%s"\nKIND="mmf"\n' % n)
        out = self.ok("info", n, "-o", "+uid", "--raw", "--noheadings")
        self.assertTrue(out.decode().startswith(n + " mmf "), out)
        # -J is --json, -b is --bytes
        self.assertEqual(json.loads(self.ok("info", n, "-J"))["length"], 3)
        self.assertRegex(self.ok("info", n, "-b").decode(),
                         r"capacity +2048\n")
        # the columns are those the help names
        help_text = self.ok("list", "--help").decode()
        for col in ("NAME", "HOLDERS", "STATE", "LOCK"):
            self.assertIn("\n  %s " % col, help_text)
        for bad in (("list", "-o", "name,nope"), ("list", "-o", ""),
                    ("list", "-J", "-o", "name"), ("info", n, "--json", "-e")):
            rc, _, err = run(*bad)
            self.assertEqual(rc, 2, bad)
            self.one_line_error(err)

    def test_wide_characters_keep_the_columns(self):
        a, b = name("\u65e5\u672c\u8a9e"), name("ab")
        for n in (a, b):
            self.ok("new", n, "--size", "1K")
        lines = self.ok("list", "-o", "name,kind").decode().split("\n")
        starts = set()
        for l in lines:
            for n in (a, b):
                if l.startswith(n + " "):
                    starts.add(columns_of(l[:l.index("mmf", len(n))]))
        self.assertEqual(len(starts), 1, lines)

    def test_holders_column(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        # holders without the wrapper: it only slows them down
        procs = [subprocess.Popen([MMF, "wait", n, "--timeout", "30"],
                                  stdout=subprocess.DEVNULL) for _ in range(3)]
        try:
            deadline = time.time() + 10 * SLOW
            while time.time() < deadline:
                row = [l for l in self.ok("list", "-o", "name,holders",
                                          "--raw").decode().split("\n")
                       if l.startswith(n + " ")]
                if row == [n + " 3"]:
                    break
                time.sleep(0.05)
            self.assertEqual(row, [n + " 3"])
        finally:
            for p in procs:
                p.kill()
                p.wait()


class Honest(Base):
    """Inspection changes nothing and says what it could not read."""

    def test_orphan_is_reported_not_removed(self):
        # Another program's open (an older mmf's list, too) may reap the
        # orphan meanwhile: a look is judged only when it is still there
        # afterwards, and looks that removed it would fail every attempt.
        for attempt in range(5):
            n = name()
            self.ok("new", n, "--size", "1K")
            os.chmod(shm(n), 0o1600)   # transient; holders and watcher gone
            info = json.loads(self.ok("info", n, "--json"))
            table = self.ok("info", n).decode()
            rows = [l for l in self.ok("list", "-o", "name,state", "--raw")
                    .decode().split("\n") if l.startswith(n + " ")]
            listed = [x for x in json.loads(self.ok("list", "--json"))
                      if x["name"] == n]
            if os.path.exists(shm(n)):
                break
        self.assertTrue(os.path.exists(shm(n)), "looking removed it")
        self.assertEqual((info["orphaned"], info["holders"]), (True, 0))
        self.assertRegex(table, r"\nstate +orphaned\n")
        self.assertEqual(rows, [n + " orphaned"])
        self.assertEqual([x["orphaned"] for x in listed], [True])
        self.ok("remove", n)
        self.assertFalse(os.path.exists(shm(n)))

    def test_a_sound_map_that_cannot_be_mapped(self):
        with open(MMF, "rb") as f:
            if b"__asan_init" in f.read():
                self.skipTest("AddressSanitizer cannot start under ulimit -v")
        n = name()
        self.ok("new", n, "--size", "1G")   # sparse: costs nothing
        sh = "ulimit -v 300000; exec %s \"$@\"" % shlex.quote(MMF)
        p = subprocess.run(["bash", "-c", sh, "_", "list", "--json"],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        [x] = [x for x in json.loads(p.stdout) if x["name"] == n]
        self.assertEqual((x["kind"], x["capacity"], x["length"]),
                         ("unknown", None, None))
        self.assertIn("memory", x["error"])
        p = subprocess.run(["bash", "-c", sh, "_", "list", "-o", "name,kind,state",
                            "--raw"], capture_output=True, timeout=30)
        [row] = [l for l in p.stdout.decode().split("\n")
                 if l.startswith(n + " ")]
        self.assertNotIn("broken header", row)
        self.assertIn("unknown not\\x20mapped", row)
        p = subprocess.run(["bash", "-c", sh, "_", "info", n],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        err = p.stderr.decode()
        self.one_line_error(err, n, "out of memory", "not mapped", "sound")
        self.assertNotIn("broken header", err)

    def test_broken_and_other_version_headers_in_json(self):
        broken, other = name(), name()
        for n in (broken, other):
            self.ok("new", n, "--size", "1K")
        with open(shm(broken), "r+b") as f:
            f.seek(16)
            f.write(b"\xff" * 8)
        with open(shm(other), "r+b") as f:
            f.seek(8)
            f.write((7).to_bytes(4, sys.byteorder))
        for n, why in ((broken, "broken"), (other, "version")):
            rc, out, err = run("info", n, "--json")
            self.assertEqual(rc, 1)
            self.one_line_error(err, n)
            x = json.loads(out)
            self.assertEqual((x["name"], x["kind"], x["capacity"], x["length"]),
                             (n, "mmf", None, None))
            self.assertIn(why, x["error"])
        rows = {x["name"]: x for x in json.loads(self.ok("list", "--json"))}
        self.assertIn("version", rows[other]["error"])
        self.assertIsNone(rows[other]["capacity"])
        table = self.ok("list", "-o", "name,capacity,state", "--raw").decode()
        [row] = [l for l in table.split("\n") if l.startswith(other + " ")]
        self.assertNotIn("broken", row)
        self.assertIn("version", row)
        self.assertIn(" - ", row)

    def test_all_holder_pids(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        procs = [subprocess.Popen([MMF, "wait", n, "--timeout", "60"],
                                  stdout=subprocess.DEVNULL) for _ in range(70)]
        try:
            deadline = time.time() + 20 * SLOW
            while time.time() < deadline:
                info = json.loads(self.ok("info", n, "--json"))
                if info["holders"] == 70:
                    break
                time.sleep(0.1)
            self.assertEqual(info["holders"], 70)
            self.assertEqual(sorted(info["holder_pids"]),
                             sorted(p.pid for p in procs))
        finally:
            for p in procs:
                p.kill()
                p.wait()

    def test_name_hex_of_a_file_map_reaches_only_it(self):
        base = name()
        self.ok("new", base, "--size", "1K")   # /dev/shm/BASE, another object
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, base)
            self.ok("new", path, "--size", "1K")
            info = json.loads(self.ok("info", path, "--json"))
            self.assertEqual(bytes.fromhex(info["name_hex"]).decode(), path)
            self.ok("remove", "--name-hex", info["name_hex"])
            self.assertFalse(os.path.exists(path))
            self.assertTrue(os.path.exists(shm(base)))


class Messages(Base):
    """Each message says what happened and what to do."""

    def test_empty_names_are_quoted_and_usage_errors(self):
        rc, out, err = run("new", "", "--size", "1K")
        self.assertEqual((rc, out), (2, b""))
        self.one_line_error(err, "new: '': not a valid map name")
        n = name()
        self.ok("new", n, "--size", "1K")
        rc, out, err = run("save", n, "")
        self.assertEqual((rc, out), (2, b""))
        self.one_line_error(err, "save", "FILE is empty")

    def test_what_a_non_file_is(self):
        link, folder = shm(name()), shm(name())
        os.symlink("/etc/passwd", link)
        os.mkdir(folder)
        try:
            for verb in ("info", "read"):
                rc, _, err = run(verb, os.path.basename(link))
                self.assertEqual(rc, 1)
                self.one_line_error(err, "a symbolic link")
                self.assertNotIn("FIFO", err)
                rc, _, err = run(verb, os.path.basename(folder))
                self.assertEqual(rc, 1)
                self.one_line_error(err, "a directory")
                self.assertNotIn("FIFO", err)
        finally:
            os.rmdir(folder)

    def test_name_hex_says_what_is_wrong_with_the_bytes(self):
        rc, _, err = run("read", "--name-hex", b"ad/".hex())
        self.assertEqual(rc, 2)
        self.one_line_error(err, "'61642f'", "ad/", "contain '/'",
                            "no shared-memory name")
        self.assertNotIn("in hex", err)
        tmp = b".mmf-tmp-x".hex()
        rc, _, err = run("read", "--name-hex", tmp)
        self.assertEqual(rc, 2)
        self.one_line_error(err, tmp, ".mmf-tmp-x")
        self.assertNotIn("/dev/shm", err)
        rc, _, err = run("read", "--name-hex", "6g")
        self.assertEqual(rc, 2)
        self.one_line_error(err, "in hex")

    def test_offset_past_the_end_says_what_was_asked(self):
        n = name()
        self.ok("new", n, "--raw", "--size", "100")
        rc, out, err = run("read", n, "--offset", "99999")
        self.assertEqual((rc, out), (1, b""))
        self.one_line_error(err, "from offset 99999 to the end", "100 bytes")
        self.assertNotIn("+0", err)
        rc, out, err = run("read", n, "--offset", "50", "--length", "60")
        self.assertEqual((rc, out), (1, b""))
        self.one_line_error(err, "reading 60 bytes from offset 50 passes the end", "100-byte map")
        self.assertEqual(self.ok("read", n, "--offset", "100"), b"")

    def test_cat_of_a_file_that_shrinks(self):
        import fcntl
        import termios
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "big.bin")
            with open(f, "wb") as w:
                w.truncate(8 << 20)
            p = subprocess.Popen([*WRAP, MMF, "cat", f], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            # Truncated once cat has filled the pipe and waits on it.
            size = fcntl.fcntl(p.stdout.fileno(), 1032)   # F_GETPIPE_SZ
            buf = bytearray(4)
            deadline = time.time() + 20 * SLOW
            while time.time() < deadline:
                fcntl.ioctl(p.stdout.fileno(), termios.FIONREAD, buf)
                if int.from_bytes(buf, sys.byteorder) >= size:
                    break
                time.sleep(0.01)
            os.truncate(f, 0)
            out, err = p.communicate(timeout=20 * SLOW)
            self.assertEqual(p.returncode, 1, err)
            self.assertLess(len(out), 8 << 20)
            self.one_line_error(err.decode(), "cat", "shrank while it was read")
            self.assertNotIn("Bad address", err.decode())

    def test_removing_a_missing_map(self):
        rc, _, err = run("remove", name())
        self.assertEqual(rc, 1)
        self.one_line_error(err, "nothing to remove")
        self.assertNotIn("create it", err)

    def test_timeouts_say_how_long_and_who(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        rc, _, err = run("wait", n, "--timeout", "0.2")
        self.assertEqual(rc, 3)
        self.one_line_error(err, n, "timed out after 0.2 s")
        self.assertNotIn("Connection", err)
        holder = subprocess.Popen([*WRAP, MMF, "lock", n, "--", "sleep", "30"])
        try:
            deadline = time.time() + 10 * SLOW
            while (json.loads(self.ok("info", n, "--json"))["lock_pid"] == 0
                   and time.time() < deadline):
                time.sleep(0.05)
            pid = json.loads(self.ok("info", n, "--json"))["lock_pid"]
            self.assertGreater(pid, 0)
            rc, _, err = run("lock", n, "--timeout", "0.3", "--", "true")
            self.assertEqual(rc, 3)
            self.one_line_error(err, n, "timed out after 0.3 s",
                                "pid %d holds the lock" % pid)
        finally:
            holder.kill()
            holder.wait()

    def test_save_to_a_device(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        rc, _, err = run("save", n, "/dev/null")
        self.assertEqual(rc, 1)
        self.one_line_error(err, "/dev/null", "is not a regular file",
                            "give a file path")
        self.assertNotIn("is no map", err)

    def test_version_takes_nothing(self):
        for extra in (("--version", "extra"), ("-V", "x")):
            rc, out, err = run(*extra)
            self.assertEqual((rc, out), (2, b""), extra)
            self.one_line_error(err, "takes nothing")

    def test_json_is_in_every_help_that_takes_it(self):
        for verb in ("new", "write", "wait", "save", "read", "info", "list",
                     "remove"):
            usage = self.ok(verb, "--help").decode().split("\n\n")[0]
            self.assertIn("--json", usage, verb)

    def test_planted_map_names_its_owner(self):
        user = other_user()
        if not user:
            self.skipTest("needs root to act as another user")
        path = "/tmp/%splanted" % PREFIX
        try:
            p = subprocess.run(["runuser", "-u", user, "--", MMF, "new", path,
                                "--size", "1K", "--mode", "666"],
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            rc, _, err = run("new", path, "--size", "1K", "--or-open")
            self.assertEqual(rc, 1)
            self.one_line_error(err, "belongs to %s" % user, "planted",
                                "not opened")
        finally:
            if os.path.exists(path):
                os.unlink(path)


def other_user():
    """An unprivileged user for the cross-user cases, made when root."""
    if os.geteuid() != 0:
        return None
    import pwd
    user = os.environ.get("MMF_TEST_USER") or "mmftest"
    try:
        pwd.getpwnam(user)
    except KeyError:
        if subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                           "/usr/sbin/nologin", user]).returncode != 0:
            return None
    return user


class Permissions(Base):
    def as_user(self, user, *args, input=None):
        p = subprocess.run(["runuser", "-u", user, "--", *WRAP, MMF, *args],
                           input=input, capture_output=True, timeout=30)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")

    def test_read_only_and_private(self):
        user = other_user()
        if not user:
            self.skipTest("cross-user tests need root to switch users")
        shared, private = name("shared"), name("private")
        self.ok("new", shared, "--size", "1K", "--mode", "644")
        self.ok("write", shared, "mine")
        self.ok("new", private, "--size", "1K")          # owner-only
        self.ok("write", private, "secret")
        self.assertEqual(self.as_user(user, "read", shared)[:2], (0, b"mine"))
        rc, out, _ = self.as_user(user, "info", shared, "--json")
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["length"], 4)
        rc, out, _ = self.as_user(user, "wait", shared, "--after", "0")
        self.assertEqual((rc, out), (0, b"1\n"))
        rc, _, _ = self.as_user(user, "wait", shared, "--timeout", "0.1")
        self.assertEqual(rc, 3)
        for args in (("write", shared, "evil"),
                     ("write", shared, "--append", "evil"),
                     ("lock", shared, "--", "true")):
            rc, out, err = self.as_user(user, *args)
            self.assertEqual(rc, 1, args)
            self.one_line_error(err, shared, "read this map but not")
        rc, _, err = self.as_user(user, "remove", shared)
        self.assertEqual(rc, 1)
        self.one_line_error(err, shared, "only its owner (root) or root may",
                            "sticky")
        self.assertNotIn("Operation not permitted", err)
        self.assertEqual(self.ok("read", shared), b"mine")
        for args in (("read", private), ("info", private)):
            rc, out, err = self.as_user(user, *args)
            self.assertEqual((rc, out), (1, b""), args)
            self.one_line_error(err, private, "permission denied")
        self.assertEqual(self.ok("read", private), b"secret")
        # listed as what it is not known to be, sizes unknown, and why
        rc, out, _ = self.as_user(user, "list", "--json")
        [x] = [x for x in json.loads(out) if x["name"] == private]
        self.assertEqual((x["kind"], x["capacity"], x["length"]),
                         ("unknown", None, None))
        self.assertIn("ermission", x["error"])
        rc, out, _ = self.as_user(user, "list", "-o", "name,kind,state")
        [row] = [l for l in out.decode().split("\n")
                 if l.startswith(private + " ")]
        self.assertRegex(row, r" unknown +no permission to read it$")
        # creating over an existing map never reuses it
        rc, _, err = self.as_user(user, "new", private, "--size", "1K")
        self.assertEqual(rc, 1)
        self.one_line_error(err, "exists")


class Remove(Base):
    def test_remove_many(self):
        a, b = name(), name()
        self.ok("new", a, "--size", "1K")
        self.ok("new", b, "--size", "1K")
        self.ok("remove", a, b)
        self.assertFalse(os.path.exists(shm(a)) or os.path.exists(shm(b)))
        rc, _, err = run("remove", a)
        self.assertEqual(rc, 1)


# Runs a command and writes its max RSS (KiB) to the file argv[1]: a fresh
# small process, because a child is charged the RSS of the process it was
# forked from, this test's included.
RSS_RUNNER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
open(sys.argv[1], "w").write(str(ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(args, stdin=None, stdout=subprocess.DEVNULL):
    """Run the built mmf (no wrapper): (exit status, stderr, max RSS in
    KiB)."""
    with tempfile.NamedTemporaryFile("r") as rss:
        p = subprocess.run([sys.executable, "-c", RSS_RUNNER, rss.name, MMF,
                            *args], stdin=stdin, stdout=stdout,
                           stderr=subprocess.PIPE)
        return p.returncode, p.stderr.decode(), int(rss.read() or 0)


@unittest.skipIf(WRAP, "large contents under a wrapper take minutes")
class Large(Base):
    """Memory bounded by a constant whatever the content's size (issue 20):
    256 MiB contents, each command under 64 MiB of RSS."""
    SIZE = 256 << 20
    CEILING = 64 << 10  # KiB

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.src = os.path.join(cls.tmp.name, "src")
        # Text, with two-byte characters that pieces of any size may cut.
        piece = ("line \u00e9\u20ac \"q\" \\ \t%d\n" * 4096).encode()
        with open(cls.src, "wb") as f:
            done = 0
            while done + len(piece) <= cls.SIZE:
                f.write(piece)
                done += len(piece)
        cls.length = done

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def map(self):
        n = name()
        self.ok("new", n, "--size", str(self.SIZE))
        return n

    def assertBounded(self, rss, what):
        self.assertLess(rss, self.CEILING, "%s: %d KiB of RSS" % (what, rss))

    def same_as_src(self, path):
        self.assertEqual(os.path.getsize(path), self.length)
        with open(path, "rb") as a, open(self.src, "rb") as b:
            while True:
                x, y = a.read(1 << 22), b.read(1 << 22)
                self.assertEqual(x, y)
                if not x:
                    break

    def test_write_from_a_pipe_and_a_file_save_and_read(self):
        n = self.map()
        feeder = subprocess.Popen(["cat", self.src], stdout=subprocess.PIPE)
        rc, err, rss = measured(["write", n], stdin=feeder.stdout)
        feeder.stdout.close()
        feeder.wait()
        self.assertEqual(rc, 0, err)
        self.assertBounded(rss, "write from a pipe")
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["length"],
                         self.length)
        with open(self.src, "rb") as f:
            rc, err, rss = measured(["write", n], stdin=f)
        self.assertEqual(rc, 0, err)
        self.assertBounded(rss, "write from a file")
        out = os.path.join(self.tmp.name, "saved")
        rc, err, rss = measured(["save", n, out])
        self.assertEqual(rc, 0, err)
        self.assertBounded(rss, "save")
        self.same_as_src(out)
        out = os.path.join(self.tmp.name, "read")
        with open(out, "wb") as f:
            rc, err, rss = measured(["read", n], stdout=f)
        self.assertEqual(rc, 0, err)
        self.assertBounded(rss, "read > file")
        self.same_as_src(out)

    def test_follow_in_bounded_memory(self):
        # An adversary's case: --follow kept a private copy of the whole
        # content (1.2 GB of heap for a 1.2 GB map).  The first content and
        # a big tail now go through a snapshot.
        n = name()
        self.ok("new", n, "--size", str(self.SIZE + (8 << 20)))
        with open(self.src, "rb") as f:
            self.assertEqual(subprocess.run([MMF, "write", n],
                                            stdin=f).returncode, 0)
        tail = os.urandom(3 << 20)
        out = os.path.join(self.tmp.name, "followed")
        ru = os.path.join(self.tmp.name, "ru")
        with open(out, "wb") as f:
            p = subprocess.Popen(
                [sys.executable, "-c", RSS_RUNNER, ru, MMF, "read", n,
                 "--follow", "--timeout", str(6 * SLOW)],
                stdout=f, stderr=subprocess.PIPE)
            time.sleep(2 * SLOW)
            self.ok("write", n, "--append", "--separator", "", input=tail)
            _, err = p.communicate(timeout=60 * SLOW)
        self.assertEqual(p.returncode, 0, err)
        with open(ru) as f:
            rss = int(f.read())
        self.assertBounded(rss, "read --follow")
        self.assertEqual(os.path.getsize(out), self.length + len(tail))
        with open(out, "rb") as a, open(self.src, "rb") as b:
            while True:
                x = b.read(1 << 22)
                self.assertEqual(a.read(len(x)), x)
                if not x:
                    break
            self.assertEqual(a.read(), tail)

    def test_read_json_streams(self):
        n = self.map()
        with open(self.src, "rb") as f:
            p = subprocess.run([MMF, "write", n], stdin=f)
            self.assertEqual(p.returncode, 0)
        out = os.path.join(self.tmp.name, "json")
        with open(out, "wb") as f:
            rc, err, rss = measured(["read", n, "--json"], stdout=f)
        self.assertEqual(rc, 0, err)
        self.assertBounded(rss, "read --json")
        with open(out, "rb") as f:
            doc = json.load(f)
        self.assertIsNone(doc["data_base64"])
        self.assertEqual(doc["length"], self.length)
        with open(self.src, "rb") as f:
            self.assertEqual(doc["data"].encode(), f.read())

    def test_write_too_big_from_a_pipe_writes_nothing(self):
        n = name()
        self.ok("new", n, "--size", "1M")
        self.ok("write", n, "before")
        feeder = subprocess.Popen(["head", "-c", "2M", "/dev/zero"],
                                  stdout=subprocess.PIPE)
        rc, err, rss = measured(["write", n], stdin=feeder.stdout)
        feeder.stdout.close()
        feeder.wait()
        self.assertEqual(rc, 1)
        self.one_line_error(err, "more than the 1048576-byte capacity",
                            "nothing was written")
        self.assertEqual(self.ok("read", n), b"before")

    def test_append_from_a_pipe_and_a_file(self):
        # Streamed into the slot after the content: bounded memory, and the
        # content then the separator then every byte of the input.
        n = self.map()
        self.ok("write", n, "head")
        feeder = subprocess.Popen(["cat", self.src], stdout=subprocess.PIPE)
        rc, err, rss = measured(["write", n, "--append", "--separator", "|"],
                                stdin=feeder.stdout)
        feeder.stdout.close()
        feeder.wait()
        self.assertEqual(rc, 0, err)
        self.assertBounded(rss, "write --append from a pipe")
        out = os.path.join(self.tmp.name, "appended")
        with open(out, "wb") as f:
            self.assertEqual(subprocess.run([MMF, "read", n], stdout=f)
                             .returncode, 0)
        with open(out, "rb") as a, open(self.src, "rb") as b:
            self.assertEqual(a.read(5), b"head|")
            while True:
                x, y = a.read(1 << 22), b.read(1 << 22)
                self.assertEqual(x, y)
                if not x:
                    break
        # From a file, into a map it no longer fits: nothing written.
        with open(self.src, "rb") as f:
            rc, err, rss = measured(["write", n, "--append"], stdin=f)
        self.assertEqual(rc, 1)
        self.assertBounded(rss, "write --append from a file")
        self.one_line_error(err, "would pass the %d-byte capacity" % self.SIZE,
                            "nothing was written")
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["length"],
                         self.length + 5)

    def test_append_too_big_from_a_pipe_writes_nothing(self):
        n = name()
        self.ok("new", n, "--size", "1M")
        self.ok("write", n, "before")
        feeder = subprocess.Popen(["head", "-c", "1048570", "/dev/zero"],
                                  stdout=subprocess.PIPE)
        rc, err, rss = measured(["write", n, "--append"], stdin=feeder.stdout)
        feeder.stdout.close()
        feeder.wait()
        self.assertEqual(rc, 1)
        self.one_line_error(err, "would pass the 1048576-byte capacity",
                            "nothing was written")
        self.assertEqual(self.ok("read", n), b"before")
        # Exactly what fits: "before", the newline and the rest.
        feeder = subprocess.Popen(["head", "-c", "1048569", "/dev/zero"],
                                  stdout=subprocess.PIPE)
        rc, err, rss = measured(["write", n, "--append", "--json"],
                                stdin=feeder.stdout, stdout=subprocess.PIPE)
        feeder.stdout.close()
        feeder.wait()
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(self.ok("info", n, "--json"))["length"],
                         1 << 20)


class Streamed(Base):
    """Contents go through pieces: what crosses a piece's edge is kept."""

    def test_json_text_decided_over_the_whole_content(self):
        n = name()
        self.ok("new", n, "--size", "4M")
        # Three-byte characters cut by any piece size; a bad byte at the
        # very end makes it all base64.
        text = ("\u20ac" * 400000).encode()
        self.ok("write", n, input=text)
        doc = json.loads(self.ok("read", n, "--json"))
        self.assertEqual(doc["data"].encode(), text)
        self.assertIsNone(doc["data_base64"])
        self.ok("write", n, input=text + b"\xe2\x82")
        doc = json.loads(self.ok("read", n, "--json"))
        self.assertIsNone(doc["data"])
        self.assertEqual(base64.b64decode(doc["data_base64"]), text + b"\xe2\x82")
        for bad in (b"\x00" + text, text[:1] + text, b"\xff"):
            self.ok("write", n, input=bad)
            doc = json.loads(self.ok("read", n, "--json"))
            self.assertIsNone(doc["data"])
            self.assertEqual(base64.b64decode(doc["data_base64"]), bad)

    def test_json_escapes(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        text = "a\"b\\c\x01\x1f\x7f\u00e9\n"
        self.ok("write", n, input=text.encode())
        out = self.ok("read", n, "--json", "--seq")
        self.assertIn(b'"data":"a\\"b\\\\c\\u0001\\u001f\\u007f\xc3\xa9\\u000a"', out)
        self.assertEqual(json.loads(out)["data"], text)

    def test_proc_files_whose_size_reads_zero(self):
        with open("/proc/version", "rb") as f:
            version = f.read()
        self.assertEqual(os.stat("/proc/version").st_size, 0)
        n = name()
        self.ok("new", n, "--size", "64K")
        with open("/proc/version", "rb") as f:
            p = subprocess.run([*WRAP, MMF, "write", n], stdin=f,
                               capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.ok("read", n), version)
        self.assertEqual(self.ok("cat", "/proc/version"), version)

    def test_cat_prints_the_file_as_it_was(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"before" * 1000)
            f.flush()
            r, w = os.pipe()
            p = subprocess.run([*WRAP, MMF, "cat", f.name], stdout=w)
            os.close(w)
            self.assertEqual(p.returncode, 0)
            # written after cat ended, before the pipe is read
            f.seek(0)
            f.write(b"AFTER!" * 1000)
            f.flush()
            got = b""
            while True:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                got += chunk
            os.close(r)
            self.assertEqual(got, b"before" * 1000)

    def slow_write(self, n, tty):
        """mmf write from a pipe fed for 1.6 s; what its stderr got."""
        import pty
        r, w = os.pipe()
        if tty:
            pid, fd = pty.fork()
        else:
            er, ew = os.pipe()
            pid = os.fork()
        if pid == 0:
            os.dup2(r, 0)
            if not tty:
                os.dup2(ew, 2)
            os.execvp(MMF, [MMF, "write", n])
        os.close(r)
        if not tty:
            os.close(ew)
            fd = er
        for _ in range(16):
            os.write(w, b"x" * 65536)
            time.sleep(0.1)
        os.close(w)
        got = b""
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, got)
        self.assertEqual(self.ok("read", n), b"x" * (16 << 16))
        return got

    @unittest.skipIf(WRAP, "runs the command itself")
    def test_progress_only_on_a_terminal(self):
        n = name()
        self.ok("new", n, "--size", "2M")
        got = self.slow_write(n, True)
        self.assertIn(b"\rmmf: write: ", got)
        self.assertTrue(got.endswith(b"\r\x1b[K"), got)   # cleared
        self.assertLess(got.count(b"\r"), 12)   # a few redraws a second
        self.assertEqual(self.slow_write(n, False), b"")

    def test_seq_to_a_file_or_pipe(self):
        n = name()
        self.ok("new", n, "--size", "1K")
        self.ok("write", n, "one")
        rc, out, err = run("read", n, "--seq")
        self.assertEqual((rc, out, err), (0, b"one", "seq 1\n"))

class TapResult(unittest.TestResult):
    """Each test as a TAP line, so that Meson and script/test count cases."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.n = 0

    def line(self, ok, test, extra=""):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, test.id(), extra),
              flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.line(True, test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.line(True, test, " # SKIP " + reason)

    def report(self, test, err, kind):
        self.line(False, test)
        for l in self._exc_info_to_string(err, test).splitlines():
            print("# " + l)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.report(test, err, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        self.report(test, err, "ERROR")


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    print("1..%d" % suite.countTestCases(), flush=True)
    result = TapResult()
    suite.run(result)
    sys.exit(0 if result.wasSuccessful() else 1)
