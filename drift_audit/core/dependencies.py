"""Dependency versions of the offline and online transformation paths, and which features they touch."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(==|>=|<=|~=|>|<)?\s*([^\s;#]*)")


def parse_requirements(text: str) -> dict[str, str]:
    """name (normalized) -> version spec, from a requirements file or a `pip freeze` lock."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQ.match(line)
        if match:
            out[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = (match.group(2) or "") + (match.group(3) or "")
    return out


@dataclass(frozen=True)
class ModuleInfo:
    path: str
    functions: tuple[str, ...]  # top-level function names (the demo names them after features)
    imports: tuple[str, ...]  # top-level packages imported, normalized


_IMPORT_TO_DIST = {"sklearn": "scikit-learn", "yaml": "pyyaml", "dateutil": "python-dateutil"}


def module_info(path: Path) -> ModuleInfo:
    tree = ast.parse(path.read_text(), filename=str(path))
    funcs = tuple(sorted(n.name for n in tree.body if isinstance(n, ast.FunctionDef)))
    imports: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.add(node.module.split(".")[0])
    dists = sorted({_IMPORT_TO_DIST.get(i, i).lower().replace("_", "-") for i in imports} - {"--future--"})
    return ModuleInfo(str(path), funcs, tuple(d for d in dists if d != "__future__"))


def compare(offline: dict[str, str], online: dict[str, str]) -> list[dict[str, Any]]:
    """Libraries whose pinned versions differ between the two paths (or exist on one side only)."""
    out = []
    for name in sorted(set(offline) | set(online)):
        a, b = offline.get(name), online.get(name)
        if a != b:
            out.append({"library": name, "offline": a, "online": b})
    return out
