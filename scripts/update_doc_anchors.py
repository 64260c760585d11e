#!/usr/bin/env python3
"""Moves the line anchors of docs/how-it-works.md and README.md to where the named code is now.

Each link of the form [`Name`](../src/file.rs#L123) or [`Type::method`](...#L123) (in README.md
without the `../`) is pointed at
the line that defines `Name` (or `method`) in that file: `fn name`, `struct`, `enum`, `const`,
`type`, `trait` or `mod`. Links whose name cannot be found are reported and left alone.
tests/docs.rs checks the anchors; run this script when it fails after code moved.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "how-it-works.md", ROOT / "README.md"]
LINK = re.compile(r"\[`([^`]+)`\]\(((?:\.\./)?(?:src|tests|examples)/[^)#]+)#L(\d+)\)")


def definition_line(path: Path, name: str, hint: int) -> int | None:
    lines = path.read_text().splitlines()
    pattern = re.compile(
        rf"\b(fn|struct|enum|const|static|type|trait|mod)\s+{re.escape(name)}\b"
    )
    found = [i + 1 for i, line in enumerate(lines) if pattern.search(line)]
    if not found:
        found = [i + 1 for i, line in enumerate(lines) if name in line]
    if not found:
        return None
    return min(found, key=lambda n: abs(n - hint))


def main() -> int:
    missing = []
    for doc in DOCS:
        fix_anchors(doc, missing)
    for label in missing:
        print(f"not found: {label}", file=sys.stderr)
    return 1 if missing else 0


def fix_anchors(doc: Path, missing: list) -> None:
    text = doc.read_text()

    def fix(m: re.Match) -> str:
        label, target, line = m.group(1), m.group(2), int(m.group(3))
        if label.endswith(".rs"):
            return m.group(0)
        name = label.split("::")[-1]
        new = definition_line((doc.parent / target).resolve(), name, line)
        if new is None:
            missing.append(label)
            return m.group(0)
        return f"[`{label}`]({target}#L{new})"

    doc.write_text(LINK.sub(fix, text))


if __name__ == "__main__":
    sys.exit(main())
