#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write one manual page (section 3) per public function of mmf.h, from the
header's own comments, so that the header and `man mmf_read` never differ.

    docs/mkman.py include/mmf.h VERSION OUTDIR [NAME...]

With NAMEs (the pages the build expects), it fails unless they are exactly
the functions the header exports.

A comment followed by declarations makes one page per function it declares;
functions declared together (mmf_data and mmf_size, the zero-copy calls)
share their text.  The types and flags a function takes are added to its
synopsis.
"""
import os
import re
import sys


def blocks(text):
    """(comment lines, code lines) for each comment and the code after it."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("/*") and not line.startswith("/**/"):
            comment = []
            if line.rstrip().endswith("*/"):
                comment.append(line.strip()[2:-2].strip())
                i += 1
            else:
                i += 1
                while i < len(lines) and not lines[i].strip().endswith("*/"):
                    comment.append(re.sub(r"^ \*( |$)", "", lines[i]))
                    i += 1
                i += 1
            code = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith("/*"):
                code.append(lines[i])
                i += 1
            out.append((comment, code))
        else:
            i += 1
    return out


def roff(s):
    s = s.replace("\\", "\\e")
    return "\\&" + s if s.startswith((".", "'")) else s


def code_block(lines):
    return [".nf"] + [roff(l) for l in lines] + [".fi"]


def main():
    header, version, outdir = sys.argv[1:4]
    text = open(header).read()
    bl = blocks(text)

    # Code that pages refer to: the flags, the kinds and the structs.
    def block_with(word):
        for c, code in bl:
            if any(word in l for l in code):
                return code
        return []

    extras = {
        "struct mmf_stat": block_with("struct mmf_stat {"),
        "struct mmf_info": block_with("struct mmf_info {"),
        "MMF_OPEN_EXISTING": block_with("MMF_OPEN_EXISTING ="),
    }
    pages = {}
    for comment, code in bl:
        decl = " ".join(code)
        names = re.findall(r"MMF_EXPORT[^;(]*?\b(mmf_\w+)\(", decl)
        if not names:
            continue
        first = next((l for l in comment if l.strip()), "")
        m = re.match(r"(mmf_\w+(?:, mmf_\w+)*) - (.*)", first)
        if m:
            summary = m.group(2)
            body = comment[comment.index(first) + 1:]
            # The summary's sentence may go on over the next lines.
            while body and body[0].strip() and not summary.rstrip().endswith("."):
                summary += " " + body.pop(0).strip()
        else:
            summary = first.strip().rstrip(".")
            body = comment[comment.index(first) + 1:]
        summary = summary.split(".  ")[0].rstrip(".")
        for n in names:
            pages[n] = (names, summary, comment, code)

    expected = set(sys.argv[4:])
    if expected and expected != set(pages):
        sys.exit("mkman: the header exports %s; the build expects %s" %
                 (sorted(set(pages) - expected), sorted(expected - set(pages))))
    os.makedirs(outdir, exist_ok=True)
    for name, (names, summary, comment, code) in sorted(pages.items()):
        syn = ["#include <mmf.h>", ""]
        decl = [l.replace("MMF_EXPORT ", "") for l in code]
        uses = " ".join(decl) + " ".join(comment)
        flags = ("MMF_OPEN_EXISTING", "MMF_RAW", "MMF_READONLY", "MMF_PRIVATE",
                 "MMF_TRANSIENT", "MMF_POPULATE")
        for key, lines in extras.items():
            wanted = key in uses or (key == "MMF_OPEN_EXISTING" and
                                     any(f in uses for f in flags))
            if wanted and lines and lines != code:
                syn += lines + [""]
        syn += decl
        out = [
            f'.TH {name.upper()} 3 "" "mmf {version}" "libmmf manual"',
            ".SH NAME",
            roff(", ".join(names)) + " \\- " + roff(summary).lstrip("\\&"),
            ".SH SYNOPSIS",
        ] + code_block(syn) + [
            ".PP",
            "Link with \\fB-lmmf\\fR (\\fBpkg-config --libs libmmf\\fR).",
            ".SH DESCRIPTION",
        ]
        para = []
        for l in comment:
            if not l.strip():
                if para:
                    out.append(".PP")
                    out += [roff(p.strip()) for p in para]
                    para = []
            else:
                para.append(l)
        if para:
            out.append(".PP")
            out += [roff(p.strip()) for p in para]
        out += [
            ".SH RETURN VALUE",
            "0 (or the value described above) on success; a negative code on"
            " failure: \\fI-errno\\fR or \\fI-MMF_E*\\fR, described by"
            " \\fBmmf_strerror\\fR(3).",
            ".SH SEE ALSO",
            ", ".join(f"\\fB{n}\\fR(3)" for n in names if n != name) +
            (", " if len(names) > 1 else "") + "\\fBlibmmf\\fR(3), \\fBmmf\\fR(1)",
        ]
        with open(os.path.join(outdir, name + ".3"), "w") as f:
            f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
