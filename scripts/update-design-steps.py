#!/usr/bin/env python3
"""Regenerates the step table of docs/design.md from src/engine/steps.hpp (tests check they match)."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "src/engine/steps.hpp").read_text()
names = dict(re.findall(r'inline constexpr std::string_view (k\w+) = "([^"]+)";', src))
rows = []
for key, why in re.findall(r'Info\{(k\w+),\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', src):
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', why)).replace('\\"', '"')
    rows.append(f"| `{names[key]}` | {text or 'a filesystem operation, in command-line order'} |")
doc_path = root / "docs/design.md"
doc = doc_path.read_text()
begin = doc.index("| step | why here |\n| --- | --- |\n") + len("| step | why here |\n| --- | --- |\n")
end = doc.index("\n\n", begin)
doc_path.write_text(doc[:begin] + "\n".join(rows) + doc[end:])
