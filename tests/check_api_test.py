#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# docs/check-api.py must name each kind of mismatch: it runs on copies of the
# lists with one thing broken at a time (and the module's .cs files moved).
#   check_api_test.py SOURCE_ROOT
import os, re, shutil, subprocess, sys, tempfile

root = sys.argv[1]
files = ["include/mmf.h", "src/lib/libmmf.map", "debian/libmmf1.symbols",
         "docs/meson.build"]


def tree(tmp):
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(tmp, f)), exist_ok=True)
        shutil.copy(os.path.join(root, f), os.path.join(tmp, f))
    # The module's sources elsewhere under powershell/, as a move would.
    src = os.path.join(root, "powershell")
    for folder, _, names in os.walk(src):
        for n in names:
            if n.endswith(".cs"):
                dest = os.path.join(tmp, "powershell", "moved", "deeper",
                                    os.path.relpath(folder, src), n)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(os.path.join(folder, n), dest)


def edit(tmp, f, old, new, count=1):
    p = os.path.join(tmp, f)
    s = open(p).read()
    assert old in s, (f, old)
    open(p, "w").write(s.replace(old, new, count))


def check(tmp):
    p = subprocess.run([sys.executable, os.path.join(root, "docs", "check-api.py"),
                        tmp], capture_output=True, text=True)
    return p.returncode, p.stdout


cases = [
    ("the lists as they are", None, 0, r"agree with mmf.h"),
    ("a function missing from the symbols file",
     ("debian/libmmf1.symbols", " mmf_sync@MMF_1.0 1.0.0\n", ""), 1,
     r"libmmf1.symbols: mmf_sync is missing"),
    ("a symbol mmf.h does not declare",
     ("debian/libmmf1.symbols", " mmf_sync@", " mmf_gone@MMF_1.0 1.0.0\n mmf_sync@"),
     1, r"libmmf1.symbols: mmf_gone is not in mmf.h"),
    ("a function without a man page",
     ("docs/meson.build", "'mmf_unlock', ", ""), 1,
     r"no man page for mmf_unlock"),
    ("a function the map keeps local",
     ("src/lib/libmmf.map", "local:\n", "local:\n    mmf_wait;\n"), 1,
     r"libmmf.map: mmf_wait is not exported"),
    ("a declaration without MMF_EXPORT",
     ("include/mmf.h", "MMF_EXPORT int mmf_open(", "int mmf_open("), 1,
     r"mmf_open is declared without MMF_EXPORT"),
    ("an import mmf.h does not declare, in a moved .cs file", "import", 1,
     r"powershell/moved/deeper/\S+\.cs: imports mmf_\w+_gone,"),
]


def break_an_import(tmp):
    """Renames the first libmmf function a .cs file imports."""
    for folder, _, names in sorted(os.walk(os.path.join(tmp, "powershell"))):
        for n in sorted(names):
            p = os.path.join(folder, n)
            s = open(p).read()
            m = re.search(r"\bextern\s+[\w.]+\s+(mmf_\w+)\s*\(", s)
            if m:
                open(p, "w").write(s[:m.end(1)] + "_gone" + s[m.end(1):])
                return
    raise SystemExit("no .cs file imports an mmf_ function")

results = []
for what, change, want_rc, want in cases:
    with tempfile.TemporaryDirectory(prefix="mmftest-api-") as tmp:
        tree(tmp)
        if change == "import":
            break_an_import(tmp)
        elif change:
            edit(tmp, *change)
        rc, out = check(tmp)
        good = rc == want_rc and re.search(want, out) is not None
        results.append((what, good, out))

print("1..%d" % len(results))
for i, (what, good, out) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, what))
    if not good:
        for line in out.splitlines():
            print("# " + line)
