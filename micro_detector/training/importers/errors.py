"""The error of a label file that cannot be imported: names the file and the line or JSON path."""

from __future__ import annotations

from pathlib import Path

from ..labels import LabelError


class LabelFormatError(LabelError):
    """A label file is malformed: `path`, and `line` (1-based, text formats) or `json_path`
    (JSON formats, e.g. `annotations[3].bbox`) say where, `problem` says what."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None, json_path: str | None = None):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if json_path:
            where += f", at {json_path}"
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.json_path = json_path


def read_label_text(path: str | Path) -> str:
    """A label file's text (UTF-8, a BOM allowed); LabelFormatError naming the file when it
    cannot be read or is not text."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise LabelFormatError(path, f"not UTF-8 text (byte {error.start}): a label file is text") from None
    except OSError as error:
        raise LabelFormatError(path, f"cannot read: {error.strerror or error}") from None
