"""Every reference in the repository points at something the repository holds.

The repository explains itself through `docs/`. A comment, docstring, script or document that cites
a markdown file, a `docs/` path or a section of one must find it here: the file must exist
(relative to the citing file or to the repository root), and a section of a `docs/` file named
after it ("docs/domain.md, Pricing" or "docs/domain.md#pricing") must be one of its headings. Sections
are cited by name, never by number. Documents kept outside the repository, and tickets, are not
references a reader can follow, so their names are refused outright (see `FORBIDDEN`).
"""
from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()

SUFFIXES = {".py", ".md", ".sql", ".sh", ".toml", ".yml", ".yaml", ".cfg", ".ini", ".txt"}
NAMES = {"Makefile", "Dockerfile"}
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache",
             ".ruff_cache"}

# Words that can only point outside the repository. Built from parts so that this file, which must
# name them, does not hold them as written.
_OUTSIDE_DOCS = "|".join(("DOM" + "AIN", "ARCHI" + "TECTURE", "IN" + "FRA", "ST" + "YLE"))
FORBIDDEN = [
    (re.compile(rf"\b(?:{_OUTSIDE_DOCS})(?:\.md)?\b"), "a document that is not in the repository"),
    (re.compile("hand" + "book", re.IGNORECASE), "a document that is not in the repository"),
    (re.compile(re.escape("../" + "shared")), "a path outside the repository"),
    (re.compile(r"\biss" + r"ue\s*#?\d+", re.IGNORECASE), "a ticket number (say what is meant instead)"),
]

URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
MARKDOWN = re.compile(r"(?<![\w./-])((?:\.{1,2}/)*[\w./-]*\w\.md)\b(#[\w-]+)?")
DOCS_PATH = re.compile(r"(?<![\w./-])(docs(?:/[\w.-]+)*/?)")
NAMED_SECTION = re.compile(r"\.md,\s+([A-Z][^.;:)\"`'\n]*)")
NUMBERED_SECTION = re.compile(r"\.md,?\s*(?:§\s*\d|sections?\s*\d|s\d\b)", re.IGNORECASE)


def scanned_files() -> list[Path]:
    found = []
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".local"))
        for name in sorted(files):
            path = Path(directory) / name
            if (path.suffix in SUFFIXES or name in NAMES) and path.resolve() != THIS:
                found.append(path)
    return found


def slug(heading: str) -> str:
    """A heading as a markdown anchor: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@cache
def headings(path: Path) -> tuple[str, ...]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.lstrip("#").strip() for line in lines if re.match(r"#{1,6} ", line))


def resolve(target: str, citing: Path) -> Path | None:
    """The file or folder `target` names, relative to the citing file or the repository root."""
    target = target.rstrip("/")
    for base in (citing.parent, ROOT):
        candidate = (base / target).resolve()
        if candidate.exists() and (candidate == ROOT or ROOT in candidate.parents):
            return candidate
    return None


def problems_in(text: str, citing: Path) -> list[str]:
    """Every dangling reference in `text` (the contents of `citing`), as `file:line: why: what`."""
    where = citing.relative_to(ROOT) if ROOT in citing.parents else citing
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = URL.sub("", raw)
        found = []
        for pattern, why in FORBIDDEN:
            found += [f"{why}: {m.group(0)!r}" for m in pattern.finditer(line)]
        for m in NUMBERED_SECTION.finditer(line):
            found.append(f"sections are cited by name, not number: {m.group(0)!r}")
        for m in MARKDOWN.finditer(line):
            target = resolve(m.group(1), citing)
            if target is None:
                found.append(f"no such file in the repository: {m.group(1)!r}")
                continue
            if target.is_file() and m.group(2) and m.group(2)[1:] not in {slug(h) for h in headings(target)}:
                found.append(f"no heading {m.group(2)!r} in {m.group(1)}")
            named = NAMED_SECTION.match(line, m.end(1) - 3) if ROOT / "docs" in target.parents else None
            if target.is_file() and named and not any(named.group(1).startswith(h) for h in headings(target)):
                found.append(f"no section {named.group(1).strip()!r} in {m.group(1)} "
                             f"(its headings: {'; '.join(headings(target))})")
        for m in DOCS_PATH.finditer(line):
            path = m.group(1).rstrip(".")
            if path != "docs" and resolve(path, citing) is None:
                found.append(f"no such path in the repository: {path!r}")
        out += [f"{where}:{number}: {problem}" for problem in found]
    return out


def test_every_reference_points_into_the_repository():
    problems = []
    for path in scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += problems_in(text, path)
    assert not problems, "dangling references:\n" + "\n".join(problems)


def test_the_scan_covers_code_docs_and_scripts():
    names = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert {"README.md", "docs/domain.md", "Makefile", "deploy/local/postgres.sh", "shared/topics.py"} <= names
    assert not any(n.startswith((".venv/", ".git/", ".local")) for n in names)


def test_the_checker_finds_each_kind_of_dangling_reference():
    citing = ROOT / "shared" / "example.py"
    text = "\n".join([
        "# rules of " + "DOM" + "AIN.md §5",
        "# see the hand" + "book",
        "# ../" + "shared/notes",
        "# as asked in iss" + "ue 12",
        "# docs/domain.md, section 5",
        "# docs/domain.md, Billing",
        "# docs/domain.md#billing",
        "# docs/nowhere.md",
        "# docs/decisions/9999-nothing.md",
        "# docs/missing/",
    ])
    problems = problems_in(text, citing)
    for line in range(1, 11):
        assert any(p.startswith(f"shared/example.py:{line}: ") for p in problems), (line, problems)


def test_the_checker_accepts_what_the_repository_holds():
    citing = ROOT / "shared" / "example.py"
    text = "\n".join([
        "# docs/domain.md, Pricing, our decisions",
        "# docs/domain.md, Cart, checkout and orders",
        "# docs/domain.md#the-grid and docs/architecture.md, The checkout saga",
        "# docs/decisions/ and docs/decisions/0002-per-line-half-even-rounding.md",
        "# README.md, deploy/README.md, https://example.org/SOMETHING.md, RFC 7946 §3.1.6",
    ])
    assert problems_in(text, citing) == []
