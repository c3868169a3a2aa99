#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks every list of libmmf's public functions against include/mmf.h.

The functions are those mmf.h declares with MMF_EXPORT.  Each must be
exported by src/lib/libmmf.map, listed in debian/libmmf1.symbols and given a
man page by docs/meson.build; each function the PowerShell module imports
from libmmf (any .cs file under powershell/) must be one of them (the module
need not import all).  With --library, the built libmmf.so must export
exactly those functions.  Prints one line per mismatch; exit status 1 if any.

  check-api.py SOURCE_ROOT [--library path/to/libmmf.so]
"""
import fnmatch
import os
import re
import shutil
import subprocess
import sys


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def header_functions(path):
    """The exported functions, and functions declared without MMF_EXPORT."""
    text = strip_c_comments(open(path, encoding="utf-8").read())
    # Preprocessor lines (with their continuations) declare no function.
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
    exported, bare = set(), set()
    for decl in text.split(";"):
        m = re.search(r"\b(mmf_[a-z0-9_]+)\s*\(", decl)
        if not m or re.search(r"\(\s*\*\s*mmf_", decl):
            continue  # not a function (or a pointer to one)
        head = decl[:m.start()]
        if "typedef" in head or "{" in decl[m.end():]:
            continue
        (exported if re.search(r"\bMMF_EXPORT\b", head) else bare).add(m.group(1))
    return exported, bare


def map_patterns(path):
    """The global patterns and the local ones of the version script."""
    text = strip_c_comments(open(path, encoding="utf-8").read())
    glob, local = [], []
    for m in re.finditer(r"\b(global|local)\s*:([^}:]*?)(?=\b(?:global|local)\s*:|})",
                         text, flags=re.S):
        names = [n.strip() for n in m.group(2).split(";") if n.strip()]
        (glob if m.group(1) == "global" else local).extend(names)
    return glob, local


def exported_by_map(name, glob, local):
    # ld: an exact name wins over patterns, then global before local.
    if name in glob:
        return True
    if name in local:
        return False
    return any(fnmatch.fnmatchcase(name, p) for p in glob)


def symbols_file(path):
    names = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^ (\S+?)@", line)
        if m:
            names.add(m.group(1))
    return names


def man_pages(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^functions\s*=\s*\[(.*?)\]", text, flags=re.S | re.M)
    if not m:
        return None
    return set(re.findall(r"'([^']+)'", m.group(1)))


def powershell_imports(root):
    """{function: file} for what the .cs files import from libmmf."""
    found = {}
    for folder, _, files in os.walk(os.path.join(root, "powershell")):
        for f in sorted(files):
            if not f.endswith(".cs"):
                continue
            path = os.path.join(folder, f)
            text = open(path, encoding="utf-8").read()
            text = re.sub(r"//[^\n]*", " ", text)
            for m in re.finditer(r"\[\s*(?:DllImport|LibraryImport)\s*\(([^)]*)\)",
                                 text):
                args = m.group(1)
                lib = args.split(",")[0].strip()
                if lib.startswith('"') and "mmf" not in lib:
                    continue  # libc and the like
                decl = re.search(r"\b(\w+)\s*\(", text[m.end():m.end() + 600])
                entry = re.search(r"EntryPoint\s*=\s*\"([^\"]+)\"", args)
                name = entry.group(1) if entry else decl.group(1) if decl else None
                if name:
                    found.setdefault(name, os.path.relpath(path, root))
    return found


def library_exports(lib):
    nm = shutil.which("nm")
    if not nm:
        return None
    out = subprocess.run([nm, "-D", "--defined-only", lib], capture_output=True,
                         text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "TtWi":
            names.add(parts[2].split("@")[0])
    return names


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--library"):
        sys.stderr.write(__doc__)
        return 2
    root = argv[1]
    rel = lambda *p: os.path.join(root, *p)
    bad = []

    api, bare = header_functions(rel("include", "mmf.h"))
    if not api:
        bad.append("include/mmf.h: no function declared with MMF_EXPORT")
    for f in sorted(bare):
        bad.append("include/mmf.h: %s is declared without MMF_EXPORT" % f)

    glob, local = map_patterns(rel("src", "lib", "libmmf.map"))
    for f in sorted(api):
        if not exported_by_map(f, glob, local):
            bad.append("src/lib/libmmf.map: %s is not exported" % f)

    syms = symbols_file(rel("debian", "libmmf1.symbols"))
    for f in sorted(api - syms):
        bad.append("debian/libmmf1.symbols: %s is missing" % f)
    for f in sorted(s for s in syms - api if s.startswith("mmf_")):
        bad.append("debian/libmmf1.symbols: %s is not in mmf.h" % f)

    pages = man_pages(rel("docs", "meson.build"))
    if pages is None:
        bad.append("docs/meson.build: no 'functions = [...]' list of man pages")
    else:
        for f in sorted(api - pages):
            bad.append("docs/meson.build: no man page for %s" % f)
        for f in sorted(pages - api):
            bad.append("docs/meson.build: a man page for %s, not in mmf.h" % f)

    imports = powershell_imports(root)
    if not imports and os.path.isdir(rel("powershell")):
        bad.append("powershell/: no libmmf import found in any .cs file")
    for f, where in sorted(imports.items()):
        if f not in api:
            bad.append("%s: imports %s, which mmf.h does not declare" % (where, f))

    if len(argv) == 4:
        got = library_exports(argv[3])
        if got is None:
            print("# no nm: the built library's exports are not checked")
        else:
            lib = os.path.basename(argv[3])
            for f in sorted(api - got):
                bad.append("%s: does not export %s" % (lib, f))
            for f in sorted(got - api):
                bad.append("%s: exports %s, which mmf.h does not declare" % (lib, f))

    for line in bad:
        print(line)
    if not bad:
        print("%d public functions; the map, the symbols file, the man pages, "
              "the module's %d imports%s agree with mmf.h"
              % (len(api), len(imports),
                 " and the library" if len(argv) == 4 else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
