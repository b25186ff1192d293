#!/usr/bin/env python3
"""Writes the manual pages from the header's documentation, so that they have one source.

    python3 man/gen.py           writes man/man3/*.3 and man/man7/smtp_verdict.7
    python3 man/gen.py --check   fails if the pages differ from what the header gives

Section 3 has a page for every function and struct of include/smtp_verdict.h, its text the
doc comment above the declaration; smtp_verdict(7) is man/smtp_verdict.7.in (the overview
and the verdict table) followed by every enumeration and constant of the header.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "include" / "smtp_verdict.h"
VERSION = re.search(r'^version = "(.*)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
DATE = "December 3, 2026"  # of the text below, not of a build: pages must be reproducible


def items(header):
    """(doc, declaration) pairs: each top-level doc comment with what it documents (a whole
    struct or enum, else the code up to the next blank line)."""
    for m in re.finditer(r"^/\*\*\n(.*?)\*/\n", header, re.S | re.M):
        doc = "\n".join(re.sub(r"^ \* ?", "", l) for l in m.group(1).splitlines())
        rest = header[m.end():]
        end = re.search(r"^\}.*;$" if re.match(r"(typedef struct|enum) ", rest) else r"^\s*$", rest, re.M)
        yield doc.strip(), rest[: end.end() if end else len(rest)]


def escape(text):
    text = text.replace("\\", "\\e")
    return "\\&" + text if text[:1] in (".", "'") else text


def inline(paragraph):
    """mdoc lines for a paragraph: plain words on text lines, `code` as .Ql macro lines."""
    out, words = [], []
    for token in re.split(r"(`[^`]*`\S*)", " ".join(paragraph.split())):
        if not token.startswith("`"):
            words.extend(token.split())
            continue
        opening = ""
        if words and words[-1].endswith("("):
            opening = "( "
            words[-1] = words[-1][:-1]
            if not words[-1]:
                words.pop()
        if words:
            out.append(escape(" ".join(words)))
            words = []
        code, rest = re.match(r"`([^`]*)`(\S*)", token).groups()
        punct = " " + " ".join(rest) if rest and all(c in ".,:;)?!" for c in rest) else ""
        if rest and not punct:
            code += rest
        arg = code.replace("\\", "\\e").replace('"', '\\(dq')
        arg = f'"{arg}"' if re.search(r"\s", arg) or not arg else arg
        out.append(f".Ql {opening}{arg}{punct}")
    if words:
        out.append(escape(" ".join(words)))
    # mdoc: a sentence starts on a new line.
    split = []
    for line in out:
        if line.startswith("."):
            split.append(line)
        else:
            split.extend(l for l in re.split(r"(?<=[A-Za-z0-9)][.?!]) (?=[A-Z(`\\])", line))
    return split


def body(doc):
    """The description: paragraphs, lists, and `# Heading` as subsections."""
    out = []
    for block in re.split(r"\n\s*\n", doc):
        lines = block.splitlines()
        heading = lines[0].startswith("# ")
        if heading:
            out.append(".Ss " + lines[0][2:])
            lines = lines[1:]
            if not lines:
                continue
        if all(re.match(r"^(- |  )", l) for l in lines):
            out.append(".Bl -bullet")
            for entry in re.split(r"\n(?=- )", "\n".join(lines)):
                out.append(".It")
                out.extend(inline(entry[2:]))
            out.append(".El")
        else:
            if not heading:
                out.append(".Pp")
            out.extend(inline(" ".join(lines)))
    return out[1:] if out and out[0] == ".Pp" else out


def summary(doc):
    first = re.split(r"(?<=[.:])\s", " ".join(doc.split("\n\n")[0].split()), maxsplit=1)[0]
    return re.sub(r"`([^`]*)`", r"\1", first).rstrip(".:")


def page(name, title, synopsis, doc, extra, names):
    refs = sorted(set(re.findall(r"\bsmtp_[a-z_]+", doc + "\n".join(extra))) & names - {name})
    lines = [
        f".Dd {DATE}",
        f".Dt {name.upper()} 3",
        f".Os smtp-verdict {VERSION}",
        ".Sh NAME",
        f".Nm {name}",
        f".Nd {escape(title)}",
        ".Sh LIBRARY",
        "smtp-verdict",
        ".Pq libsmtp_verdict, -lsmtp_verdict",
        ".Sh SYNOPSIS",
        ".In smtp_verdict.h",
        *synopsis,
        ".Sh DESCRIPTION",
        *body(doc),
        *extra,
        ".Sh SEE ALSO",
    ]
    lines += [f".Xr {r} 3 ," for r in refs] + [".Xr smtp_verdict 7"]
    return "\n".join(lines) + "\n"


def pages(header):
    found = list(items(header))
    functions, structs = {}, {}
    for doc, decl in found:
        f = re.match(r"^([\w\s\*]+?)\s*\b(smtp_\w+)\((.*?)\);", decl, re.S)
        s = re.match(r"^typedef struct (smtp_\w+) \{\n(.*)\n\} \1;", decl, re.S)
        if f:
            functions[f.group(2)] = (doc, f.group(1).strip(), [a.strip() for a in f.group(3).split(",")])
        elif s:
            structs[s.group(1)] = (doc, s.group(2))
    names = set(functions) | set(structs)
    out = {}
    for name, (doc, ret, args) in functions.items():
        fn = [f".Ft {ret}", f".Fn {name} " + " ".join(f'"{a}"' for a in args if a != "void")]
        out[f"man3/{name}.3"] = page(name, summary(doc), fn, doc, [], names)
    for name, (doc, fields) in structs.items():
        extra = [".Sh FIELDS", ".Bl -tag -width Ds"]
        for fdoc, fdecl in re.findall(r"/\*\*\n(.*?)\*/\n\s*(.*?);", fields, re.S):
            fdoc = "\n".join(re.sub(r"^\s*\* ?", "", l) for l in fdoc.splitlines()).strip()
            typ, field = re.match(r"(.*?)\s*\b(\w+(?:\[\w+\])?)$", fdecl.strip()).groups()
            extra += [f".It Vt {typ} Va {field}", *body(fdoc)]
        extra.append(".El")
        out[f"man3/{name}.3"] = page(name, summary(doc), [f".Vt struct {name}"], doc, extra, names)
    # smtp_verdict(7): the overview, then the enumerations and constants.
    seven = (ROOT / "man" / "smtp_verdict.7.in").read_text().replace("@VERSION@", VERSION)
    seven, standards = seven.split(".Sh STANDARDS\n")
    seven += ".Sh CONSTANTS\n"
    for doc, decl in found:
        e = re.match(r"^enum (smtp_\w+)\n", decl)
        d = re.match(r"^#define (SMTP_\w+)", decl)
        if e:
            seven += f".Ss enum {e.group(1)}\n" + "\n".join(body(doc)) + "\n.Bl -tag -width Ds\n"
            for vdoc, value in re.findall(r"/\*\*\n(.*?)\*/\n\s*(\w+ = [^,\n]+)", decl, re.S):
                vdoc = "\n".join(re.sub(r"^\s*\* ?", "", l) for l in vdoc.splitlines()).strip()
                seven += f".It Dv {value.split(' = ')[0]} Pq {value.split(' = ')[1]}\n" + "\n".join(body(vdoc)) + "\n"
            seven += ".El\n"
        elif d:
            seven += f".Ss {d.group(1)}\n" + "\n".join(body(doc)) + "\n"
    seven += ".Sh SEE ALSO\n" + " ,\n".join(f".Xr {n} 3" for n in sorted(names)) + "\n"
    seven += ".Sh STANDARDS\n" + standards
    out["man7/smtp_verdict.7"] = seven
    return out


def main():
    check = sys.argv[1:] == ["--check"]
    wanted = pages(HEADER.read_text())
    stale = []
    for rel, text in sorted(wanted.items()):
        path = ROOT / "man" / rel
        if path.exists() and path.read_text() == text:
            continue
        stale.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    extra = [p for p in (ROOT / "man").glob("man[37]/*") if str(p.relative_to(ROOT / "man")) not in wanted]
    for p in extra:
        stale.append(str(p.relative_to(ROOT)))
        if not check:
            p.unlink()
    if check and stale:
        sys.exit(f"man pages out of date (run python3 man/gen.py): {' '.join(stale)}")
    print(f"{len(wanted)} pages{', rewritten: ' + ' '.join(stale) if stale and not check else ', up to date'}")


if __name__ == "__main__":
    main()
