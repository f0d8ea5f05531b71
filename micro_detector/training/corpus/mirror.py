"""Reading a fetched snapshot: a bare git directory under the mirror root
(`<root>/<owner>+<name>/repo`, or `.../repo/.git` for snapshots kept as clones), at a commit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class MirrorError(RuntimeError):
    """A repository or commit is not in the mirror: says which, and that it must be fetched."""


class GitMirror:
    """Files of one repository at one commit of the local mirror."""

    def __init__(self, root: str | Path, repo: str, commit: str):
        self.repo, self.commit = repo, commit
        base = Path(root) / repo.replace("/", "+") / "repo"
        self.git_dir = base / ".git" if (base / ".git").is_dir() else base
        if not (self.git_dir / "HEAD").is_file():
            raise MirrorError(f"{repo} is not in the mirror {root} (expected {base}); fetch github:{repo}")
        if self._run("cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode != 0:
            raise MirrorError(
                f"{repo}: commit {commit} is not in the mirror's snapshot {self.git_dir}; "
                f"fetch github:{repo} again (the manifest needs that commit)"
            )

    def _run(self, *args: str, check: bool = True, data: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["git", "--git-dir", str(self.git_dir), *args], input=data, capture_output=True, check=check
        )

    def files(self, under: str = "") -> dict[str, tuple[str, int | None]]:
        """Path -> (blob id, size in bytes or None when the blob is absent from the snapshot,
        e.g. files of 4 MiB or more) of every file at the commit, below `under`."""
        args = ["ls-tree", "-r", "-l", self.commit] + ([under] if under else [])
        out = {}
        for line in self._run(*args).stdout.decode("utf-8", "surrogateescape").splitlines():
            meta, path = line.split("\t", 1)
            _, kind, blob, size = meta.split()
            if kind == "blob":
                out[path] = (blob, int(size) if size.isdigit() else None)
        return out

    def read(self, path: str) -> bytes:
        """The bytes of a file at the commit; MirrorError when the snapshot lacks it."""
        done = self._run("cat-file", "blob", f"{self.commit}:{path}", check=False)
        if done.returncode != 0:
            raise MirrorError(
                f"{self.repo}@{self.commit[:8]}: {path} is not in the snapshot "
                f"({done.stderr.decode(errors='replace').strip()})"
            )
        return done.stdout

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """The bytes of many files at once (one `git cat-file --batch`); missing ones raise."""
        request = "".join(f"{self.commit}:{p}\n" for p in paths).encode("utf-8", "surrogateescape")
        out = self._run("cat-file", "--batch", data=request).stdout
        result, pos = {}, 0
        for path in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if header[-1] == b"missing":
                raise MirrorError(f"{self.repo}@{self.commit[:8]}: {path} is not in the snapshot")
            size = int(header[2])
            result[path] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return result
