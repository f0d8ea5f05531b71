"""List functions over 60 lines, files over 400 lines and public core functions without a docstring.

Why: the size rule of ARCHITECTURE.md (short functions, short files, documented core API) is
only kept if it is checked. Usage: `python scripts/check_sizes.py [--max-function N]
[--max-file N]`; exit status 1 when anything is listed. A departure with a stated reason is
marked by a comment `# size: <reason>` on the `def` line or in the file's first 5 lines.

Lines are counted as written, except continuation lines: a line whose first token sits inside
brackets opened on an earlier line (a call or a signature the formatter wrapped) belongs to
the line above. So `ruff format` wrapping an argument list one per line does not change a
function's size, while docstrings, comments and blank lines still count.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("micro_detector", "processing", "installer", "benchmarks", "scripts")
CORE = "micro_detector"


def source_files(root: Path = ROOT) -> list[Path]:
    """The project's .py files (the plugin root's own and those of FOLDERS; not tests)."""
    files = sorted(root.glob("*.py"))
    for folder in FOLDERS:
        files += sorted(p for p in (root / folder).rglob("*.py") if "work" not in p.relative_to(root).parts)
    return files


def _excused(lines: list[str], lineno: int) -> bool:
    return "# size:" in lines[lineno - 1]


def continuation_lines(text: str) -> set[int]:
    """Line numbers whose first token is inside brackets opened on an earlier line."""
    found, depth, last_line = set(), 0, 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            continue
        line = tok.start[0]
        if line != last_line and depth > 0:
            found.add(line)
        last_line = tok.end[0]
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
    return found


def check_file(path: Path, max_function: int, max_file: int, root: Path = ROOT) -> list[str]:
    """Findings for one file: long functions, a long file, undocumented public core functions."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    rel = path.relative_to(root)
    found = []
    wrapped = continuation_lines(text)
    if len(lines) - len(wrapped) > max_file and not any("# size:" in line for line in lines[:5]):
        found.append(f"{rel}: file of {len(lines) - len(wrapped)} lines")
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        length = node.end_lineno - start + 1 - sum(1 for n in wrapped if start <= n <= node.end_lineno)
        if length > max_function and not _excused(lines, node.lineno):
            found.append(f"{rel}:{node.lineno}: {node.name} is {length} lines")
    if rel.parts[0] == CORE:
        found += [
            f"{rel}:{node.lineno}: public {node.name} has no docstring"
            for node in _public_functions(rel, text)
            if ast.get_docstring(node) is None
        ]
    return found


def _public_functions(rel: Path, text: str) -> list:
    """Module-level functions and methods of module-level classes whose names (and module's)
    are public; closures are a function's own business."""
    if any(part.startswith("_") and part not in ("__init__.py", "__main__.py") for part in rel.parts):
        return []
    tree = ast.parse(text)
    scopes = [tree] + [n for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")]
    return [
        n
        for scope in scopes
        for n in scope.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not n.name.startswith("_")
    ]


def main(argv: list[str] | None = None) -> int:
    """Print every finding; 1 when there is one, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-function", type=int, default=60)
    parser.add_argument("--max-file", type=int, default=400)
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder to check (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    found = [f for path in source_files(root) for f in check_file(path, args.max_function, args.max_file, root)]
    print("\n".join(found) if found else "nothing over the limits")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
