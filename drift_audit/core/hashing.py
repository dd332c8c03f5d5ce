"""Content hashes: canonical JSON and streamed sha256 of files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def canonical_json(value: Any) -> str:
    """The one serialization used for every hashed JSON artifact: sorted keys, no spaces, NaN refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_json(value: Any) -> str:
    return sha256_text(canonical_json(value))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_files(files: Iterable[Path], root: Path) -> str:
    """Hash of a set of files: sha256 over sorted lines "relative/path <file sha256>"."""
    lines = sorted(f"{p.relative_to(root).as_posix()} {sha256_file(p)}" for p in files)
    return sha256_text("\n".join(lines))
