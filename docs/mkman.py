#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write one manual page (section 3) per public function of mmf.h, from the
header's own comments, so that the header and `man mmf_read` never differ.

    docs/mkman.py include/mmf.h VERSION OUTDIR [--example FILE]...
                  [--synopsis libmmf.3.scd] [--symbols libmmf1.symbols]
                  [NAME...]

A comment followed by declarations makes one page per function it declares;
functions declared together (mmf_lock and mmf_unlock, the zero-copy calls)
share a page's text.  The comment follows kernel-doc's convention:

    name[, name...] - summary
    description paragraphs (@param names a parameter)
    @param: text, continued on lines indented below it; a list of flags
        MMF_FLAG  text, continued further in
    Returns: text
    Errors:
      -ECODE  text, continued further in
      any error of mmf_other().
    Thread safety: MT-Safe[, what the caller must still do].
    Notes: text

It fails (and the build with it) unless the header exports exactly the NAMEs
given, every parameter of every function has its @item and every @name in
the text is a parameter, each page has an example (a FILE whose first
comment says "Pages: mmf_a mmf_b"), the SYNOPSIS of libmmf(3) declares what
the header declares, and the symbols file lists what the header exports.
"""
import argparse
import os
import re
import sys


def fail(msg):
    sys.exit("mkman: " + msg)


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
                    comment.append(re.sub(r"^ \*( |$)", "", lines[i]).rstrip())
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


def indent(line):
    return len(line) - len(line.lstrip(" "))


def esc(s):
    return s.replace("\\", "\\e")


def inline(text):
    """Header text to roff: @param italic; functions, other pages, codes and
    constants bold; minus signs as minus signs."""
    s = esc(text)
    s = re.sub(r"@(\w+)", lambda m: "\x01" + m.group(1) + "\x02", s)
    s = re.sub(r"\b(mmf_\w+)\(\)", r"\\fB\1\\fP()", s)
    s = re.sub(r"\b([a-z_][a-z0-9_]*)\(([1-8])\)", r"\\fB\1\\fP(\2)", s)
    s = re.sub(r"(?<![\w-])-((?:MMF_)?E[A-Z0-9_]+)\b", r"\\fB\\-\1\\fP", s)
    s = re.sub(r"(?<![\w\\])(MMF_[A-Z0-9_]+|FD_CLOEXEC|O_CLOEXEC|MS_SYNC)\b",
               r"\\fB\1\\fP", s)
    s = re.sub(r"(?<![\w-])-(\d)", r"\\-\1", s)
    s = s.replace("\x01", "\\fI").replace("\x02", "\\fP")
    return s


def roff_lines(text, cap=False):
    """A paragraph's text as roff lines (one sentence a line where it can,
    never starting with a control character); cap: as a sentence."""
    out = []
    text = text.strip()
    if cap and text[:1].islower() and not text.startswith("mmf"):
        text = text[0].upper() + text[1:]
    for part in re.split(r"(?<=[.;:])  +", inline(" ".join(text.split()))):
        if part.startswith((".", "'")):
            part = "\\&" + part
        out.append(part)
    return out


def items(lines, col):
    """Tagged items at column col: [(tag, text lines)], then the lines left
    over (prose after the list)."""
    out, rest = [], []
    for l in lines:
        if not l.strip():
            continue
        if indent(l) == col:
            tag, _, text = l.strip().partition(" ")
            if re.match(r"-?[A-Z][A-Z0-9_]*$", tag) and not rest:
                out.append((tag, [text.strip()]))
                continue
            rest.append(l.strip())
        elif out and not rest and indent(l) > col:
            out[-1][1].append(l.strip())
        else:
            rest.append(l.strip())
    return out, rest


def parse(comment):
    """A function comment as its parts."""
    lines = comment[:]
    while lines and not lines[0].strip():
        lines.pop(0)
    m = re.match(r"(mmf_\w+(?:, mmf_\w+)*,?)(?: - (.*)|$)", lines[0])
    if not m:
        fail("a function's comment must start with 'name - summary': %r" % lines[0])
    names = [n.strip() for n in m.group(1).split(",") if n.strip()]
    summary = m.group(2) or ""
    i = 1
    # A list of names may go on over the next line, before the " - ".
    if m.group(1).endswith(","):
        m2 = re.match(r"(.*?) - (.*)", lines[1])
        names += [n.strip() for n in m2.group(1).split(",") if n.strip()]
        summary, i = m2.group(2), 2
    while i < len(lines) and lines[i].strip():
        summary += " " + lines[i].strip()
        i += 1
    doc = {"names": names, "summary": summary.rstrip("."), "desc": [],
           "params": [], "returns": None, "errors": None, "errors_rest": [],
           "attr": None, "attr_note": "", "notes": None}
    # Split the rest into sections: a line that starts a section, at column
    # 0, ends the one before.
    sec, buf = "desc", []

    def flush():
        if sec == "desc":
            para = []
            for l in buf + [""]:
                if l.strip():
                    para.append(l)
                elif para:
                    doc["desc"].append(" ".join(para))
                    para = []
        elif sec == "param":
            name, first = buf[0]
            body = buf[1:]
            text, sub, j = [first], [], 0
            while j < len(body) and not re.match(r"\s+MMF_[A-Z0-9_]+\s{2,}\S", body[j]):
                text.append(body[j].strip())
                j += 1
            if j < len(body):
                sub, rest = items(body[j:], indent(body[j]))
                if rest:
                    fail("@%s: text after its list: %r" % (name, rest))
            doc["params"].append((name, " ".join(t for t in text if t), sub))
        elif sec == "returns":
            doc["returns"] = " ".join(l.strip() for l in buf)
        elif sec == "errors":
            body = [l for l in buf if l.strip()]
            if not body:
                fail("Errors: with no codes in %s" % names)
            doc["errors"], doc["errors_rest"] = items(body, indent(body[0]))
        elif sec == "attr":
            text = " ".join(l.strip() for l in buf)
            value, _, note = text.partition(",")
            doc["attr"] = value.strip().rstrip(".")
            doc["attr_note"] = note.strip()
        elif sec == "notes":
            doc["notes"] = " ".join(l.strip() for l in buf)

    for l in lines[i:]:
        pm = re.match(r"@(\w+): (.*)", l)
        sm = re.match(r"(Returns|Errors|Thread safety|Notes):\s*(.*)", l)
        if pm or sm:
            flush()
            if pm:
                sec, buf = "param", [(pm.group(1), pm.group(2))]
            else:
                sec = {"Returns": "returns", "Errors": "errors",
                       "Thread safety": "attr", "Notes": "notes"}[sm.group(1)]
                buf = [sm.group(2)] if sm.group(2) else []
        elif sec not in ("desc", "returns") and l.strip() and indent(l) == 0:
            fail("%s: %r at column 0 inside a section (indent it, or leave a "
                 "blank line before a new paragraph)" % (names[0], l))
        elif sec not in ("desc", "errors") and not l.strip():
            flush()
            sec, buf = "desc", []
        else:
            buf.append(l)
    flush()
    return doc


def split_decl(decl):
    """'int mmf_x(const char *name, int flags);' -> ('int ', 'mmf_x',
    [('const char *', 'name'), ...])"""
    m = re.match(r"\s*(.*?)\b(mmf_\w+)\((.*)\);", decl)
    if not m:
        fail("cannot read the declaration %r" % decl)
    ret, name, args = m.groups()
    params = []
    if args.strip() != "void":
        for a in args.split(","):
            a = a.strip()
            pm = re.match(r"(.*?)(\w+)$", a)
            params.append((pm.group(1), pm.group(2)))
    return ret, name, params


def synopsis_lines(ret, name, params):
    """The declaration as .BI lines, wrapped after a comma under the '('."""
    head = ret + name + "("
    if not params:
        return ['.B "%svoid);"' % head]
    pad = " " * len(head)
    rows, row, width = [], [], len(head)
    for k, (t, n) in enumerate(params):
        tail = ");" if k == len(params) - 1 else ","
        w = len(t) + len(n) + len(tail) + 1
        if row and width + w > 72:
            rows.append(row)
            row, width = [], len(pad)
        row.append((t, n, tail))
        width += w
    rows.append(row)
    out = []
    for r, row in enumerate(rows):
        # .BI alternates bold (types, punctuation) and italic (names).
        pieces = [(head if r == 0 else pad) + row[0][0]]
        for k, (t, n, tail) in enumerate(row):
            pieces.append(n)
            pieces.append(tail + (" " + row[k + 1][0] if k + 1 < len(row) else ""))
        out.append(".BI " + " ".join('"%s"' % esc(p) for p in pieces))
    return out


def struct_fields(lines):
    """Declarations of structs and enums without their comments, and each
    commented member with its comment: the comments become a list of the
    fields, so that the code fits the page."""
    fields, text = [], "\n".join(lines)
    # Comments that run over several lines, joined to their member.
    for m in re.finditer(r"^(\s+)([^/\n]*?)\s*/\*(.*?)\*/", text, re.M | re.S):
        decl = m.group(2).strip()
        if not decl:
            continue
        names = re.findall(r"(\w+)(?:\[\d+\])?\s*(?:=[^,]*)?[;,]", decl)
        if names:
            fields.append((", ".join(names), " ".join(m.group(3).split())))
    text = re.sub(r"\s*/\*.*?\*/", "", text, flags=re.S)
    code = [l.rstrip() for l in text.split("\n")]
    return code, fields


def code_block(lines):
    out = [".PP", ".in +4n", ".EX"]
    for l in lines:
        l = esc(l)
        out.append("\\&" + l if l.startswith((".", "'")) else l)
    return out + [".EE", ".in"]


def read_example(path):
    """The pages an example is for (its "Pages:" comment), and its text
    without that comment and the licence line."""
    text = open(path).read()
    m = re.search(r"/\*((?:(?!\*/).)*?)Pages:((?:(?!\*/).)*)\*/\n", text, re.S)
    if not m:
        fail("%s: a comment must say 'Pages: mmf_a mmf_b'" % path)
    pages = re.findall(r"mmf_\w+", m.group(2))
    body = text.replace(m.group(0), "", 1)
    body = "\n".join(l for l in body.split("\n")
                     if "SPDX-License-Identifier" not in l)
    return pages, body.strip("\n").split("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("header")
    ap.add_argument("version")
    ap.add_argument("outdir")
    ap.add_argument("--example", action="append", default=[])
    ap.add_argument("--synopsis")
    ap.add_argument("--symbols")
    ap.add_argument("--docdir", default="/usr/share/doc/mmf",
                    help="where FORMAT.md and SECURITY.md are installed")
    ap.add_argument("names", nargs="*")
    a = ap.parse_intermixed_args()
    text = open(a.header).read()
    bl = blocks(text)

    def block_with(word):
        for c, code in bl:
            if any(word in l for l in code):
                return code
        return []

    structs = {
        "struct mmf_stat": block_with("enum mmf_kind {") + [""] +
                           block_with("struct mmf_stat {"),
        "struct mmf_info": block_with("struct mmf_info {"),
    }
    defines = dict(re.findall(r"^#define (MMF_\w+) (\d+)$", text, re.M))
    codes = {m: c.strip() for m, c in re.findall(
        r"^\s+(MMF_E\w+) = \d+,\s*/\* (.*?) \*/", text, re.M | re.S)}

    pages, decls = {}, {}
    for comment, code in bl:
        joined = " ".join(l.strip() for l in code)
        names = re.findall(r"MMF_EXPORT[^;(]*?\b(mmf_\w+)\(", joined)
        if not names:
            continue
        doc = parse(comment)
        if doc["names"] != names:
            fail("the comment names %s but declares %s" % (doc["names"], names))
        fdecls = [split_decl(d + ";") for d in
                  re.findall(r"MMF_EXPORT ([^;]*)", joined)]
        for d in fdecls:
            decls[d[1]] = d
        # Every parameter documented, every @name a parameter.
        have = {n for _, _, ps in fdecls for _, n in ps}
        documented = [p[0] for p in doc["params"]]
        if set(documented) != have or len(documented) != len(set(documented)):
            fail("%s: parameters %s, documented %s" % (names, sorted(have), documented))
        used = set(re.findall(r"@(\w+)", "\n".join(comment)))
        if used - have:
            fail("%s: @%s is not a parameter" % (names, sorted(used - have)))
        if not doc["attr"]:
            fail("%s: no 'Thread safety:'" % names)
        for tag, _ in doc["errors"] or []:
            if not re.match(r"-(MMF_E[A-Z]+|E[A-Z0-9]+)$", tag):
                fail("%s: %r is no error code" % (names, tag))
            if tag.startswith("-MMF_") and tag[1:] not in codes:
                fail("%s: %s is not in the header's codes" % (names, tag))
        doc["code"] = code
        doc["decls"] = fdecls
        for n in names:
            pages[n] = doc

    if a.names and set(a.names) != set(pages):
        fail("the header exports %s; the build expects %s" %
             (sorted(set(pages) - set(a.names)), sorted(set(a.names) - set(pages))))

    examples = {}
    for path in a.example:
        ps, body = read_example(path)
        for p in ps:
            if p not in pages:
                fail("%s: no function %s" % (path, p))
            examples.setdefault(p, []).append(body)
    if a.example:
        missing = sorted(set(pages) - set(examples))
        if missing:
            fail("no example for %s" % missing)

    if a.synopsis:
        scd = open(a.synopsis).read()
        m = re.search(r"# SYNOPSIS\n\n```\n(.*?)```", scd, re.S)
        listed = {}
        # Declarations may go on over several lines, up to their ";".
        syn = "\n".join(l for l in m.group(1).split("\n") if not l.startswith("#"))
        for l in re.findall(r"[^;]*;", syn):
            if "mmf_" in l and "(" in l:
                d = split_decl(" ".join(l.split()))
                listed[d[1]] = d
        norm = lambda d: (d[0].replace(" ", ""), d[1],
                          [(t.replace(" ", ""), n) for t, n in d[2]])
        bad = sorted(n for n in set(decls) | set(listed)
                     if n not in decls or n not in listed or
                     norm(decls[n]) != norm(listed[n]))
        if bad:
            fail("%s: its SYNOPSIS differs from the header for %s" % (a.synopsis, bad))

    if a.symbols:
        syms = set(re.findall(r"^ (mmf_\w+)@", open(a.symbols).read(), re.M))
        if syms != set(pages):
            fail("%s lists %s; the header exports %s" % (
                a.symbols, sorted(syms - set(pages)), sorted(set(pages) - syms)))

    os.makedirs(a.outdir, exist_ok=True)
    for name, doc in sorted(pages.items()):
        write_page(a, name, doc, structs, defines, codes, examples.get(name, []))


def write_page(a, name, doc, structs, defines, codes, examples):
    names = doc["names"]
    out = [
        "'\\\" t",
        '.TH %s 3 "" "mmf %s" "libmmf manual"' % (name.upper(), a.version),
        ".SH NAME",
        "\\- ".join([", ".join(names) + " ", esc(doc["summary"])]),
        ".SH LIBRARY",
        "libmmf (\\fI\\-lmmf\\fP, \\fBpkg\\-config \\-\\-libs libmmf\\fP)",
        ".SH SYNOPSIS",
        ".nf",
        ".B #include <mmf.h>",
    ]
    text = " ".join([doc["summary"]] + doc["desc"] + [p[1] for p in doc["params"]] +
                    [doc["returns"] or "", doc["notes"] or ""] +
                    [" ".join(t) for _, t in doc["errors"] or []] +
                    doc["errors_rest"] + [doc["attr_note"]])
    consts = [c for c in defines if re.search(r"\b%s\b" % c, text)]
    if consts:
        out.append(".PP")
        out += [".BR \"#define %s\" \" %s\"" % (c, defines[c]) for c in consts]
    for ret, fname, params in doc["decls"]:
        out.append(".PP")
        out += synopsis_lines(ret, fname, params)
    out += [".fi", ".SH DESCRIPTION"]
    for p in doc["desc"]:
        out += [".PP"] + roff_lines(p)
    if doc["params"]:
        out += [".PP", "The parameters:"]
        for pname, ptext, sub in doc["params"]:
            out += [".TP", ".I " + pname] + roff_lines(ptext, True)
            if sub:
                out.append(".RS")
                for tag, t in sub:
                    out += [".TP", ".B " + tag] + roff_lines(" ".join(t), True)
                out.append(".RE")
    shown = []
    code, keep = [], False
    for l in doc["code"]:
        keep = keep or l.startswith("struct ")
        if keep:
            code.append(l)
        keep = keep and not l.startswith("};")
    if code:
        shown.append(("The loan and view structures", code))
    for key, lines in structs.items():
        decl_text = " ".join(" ".join(t for t, _ in d[2]) for d in doc["decls"])
        if key in decl_text:
            shown.append(("The %s structure" % key.split()[1], lines))
    for title, lines in shown:
        code, fields = struct_fields(lines)
        out += [".SS " + title] + code_block(code)
        if fields:
            out += [".PP", "The fields:"]
            for f, t in fields:
                out += [".TP", ".I " + f] + roff_lines(t.rstrip(".") + ".", True)
    if name == "mmf_strerror":
        out += [".SS The library's codes",
                "Functions return them negated, like errno values; "
                "they are never renumbered."]
        for c, t in codes.items():
            t = " ".join(t.split())
            out += [".TP", ".B " + c] + roff_lines(t + ("" if t.endswith((".", ")")) else "."), True)
    out.append(".SH RETURN VALUE")
    generic = "0 on success, a negative error code on failure."
    if doc["returns"] == generic:
        who = " and ".join("%s()" % n for n in names)
        out += roff_lines("On success, %s returns 0.  On failure, it returns a "
                          "negative error code, one of those under ERRORS." % who)
    elif doc["returns"]:
        out += roff_lines(doc["returns"], True)
    else:
        out += roff_lines(" ".join("%s() returns no value." % n for n in names))
    if doc["errors"] or doc["errors_rest"]:
        out.append(".SH ERRORS")
        for tag, t in doc["errors"]:
            out += [".TP", ".B " + inline(tag).replace("\\fB", "").replace("\\fP", "")]
            out += roff_lines(" ".join(t), True)
        if doc["errors_rest"]:
            out += [".PP"] + roff_lines("Also " + " ".join(doc["errors_rest"]))
        out += [".PP", ".BR mmf_strerror (3)", "describes each code."]
    out += [
        ".SH ATTRIBUTES",
        "For an explanation of the terms used in this section, see",
        ".BR attributes (7).",
        ".TS",
        "allbox;",
        "lbx lb lb",
        "l l l.",
        "Interface\tAttribute\tValue",
        "T{",
        ".na",
        ".nh",
        ",\n".join(".BR %s ()" % n for n in names),
        "T}\tThread safety\t" + doc["attr"],
        ".TE",
        ".sp",
    ]
    if doc["attr_note"]:
        note = re.sub(r"^but ", "", doc["attr_note"])
        out += [".PP"] + roff_lines(note, True)
    if doc["notes"]:
        out += [".SH NOTES"] + roff_lines(doc["notes"], True)
    if examples:
        out.append(".SH EXAMPLES")
        for body in examples:
            out += code_block(body)
    refs = set(re.findall(r"\b(mmf_\w+)\(\)", text)) | set(names)
    refs.discard(name)
    ext = set(re.findall(r"\b([a-z_][a-z0-9_]*)\(([1-8])\)", text))
    ext.discard(("libmmf", "3"))
    ext.discard(("mmf", "1"))
    see = sorted((3, r) for r in refs) + sorted((int(s), r) for r, s in ext)
    see = [(1, "mmf")] + [(3, "libmmf")] + see
    see.sort(key=lambda x: (x[0], x[1]))
    out += [".SH SEE ALSO"]
    out += [".BR %s (%d)%s" % (r, s, "," if k < len(see) - 1 else "")
            for k, (s, r) in enumerate(see)]
    # The header names the documents as the source tree has them; the page
    # says where they are installed.
    page = "\n".join(out) + "\n"
    page = re.sub(r"docs/(\w+\.md)", lambda m: "\\fI%s/%s\\fP" % (
        esc(a.docdir).replace("-", "\\-"), m.group(1)), page)
    with open(os.path.join(a.outdir, name + ".3"), "w") as f:
        f.write(page)


if __name__ == "__main__":
    main()
