#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Render each manual page as man(1) does, at 80 columns, and fail on what
reads badly there: a groff warning, a line wider than the terminal, or
markup of the header leaking through (@param, `code`, *emphasis*).

    docs/lintman.py PAGE...
"""
import os
import re
import subprocess
import sys

bad = 0
for page in sys.argv[1:]:
    name = os.path.basename(page)
    warn = subprocess.run(["groff", "-t", "-man", "-ww", "-z", "-Tutf8", page],
                          capture_output=True, text=True).stderr
    if warn.strip():
        print("%s: groff: %s" % (name, warn.strip()))
        bad += 1
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    text = subprocess.run(["man", "-l", page], capture_output=True, text=True,
                          env=env).stdout
    if not text.strip():
        print("%s: man rendered nothing" % name)
        bad += 1
    for n, line in enumerate(text.split("\n"), 1):
        line = re.sub(r".\x08", "", line)
        if len(line) > 80:
            print("%s:%d: wider than 80 columns: %s" % (name, n, line))
            bad += 1
        if re.search(r"@\w|`|(?<![\w/*])\*[A-Za-z_]+\*(?![\w/*])", line):
            print("%s:%d: header markup: %s" % (name, n, line.strip()))
            bad += 1
print("lintman: %d pages, %d problems" % (len(sys.argv) - 1, bad))
sys.exit(1 if bad else 0)
