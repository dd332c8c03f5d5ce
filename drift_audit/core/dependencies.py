"""Dependency versions of the offline and online transformation paths, and which features they touch.

Versions come from each path's requirements or lock file (requirements.txt / `pip freeze`, poetry.lock,
uv.lock, pylock.toml, Pipfile.lock). Which libraries a feature's computation uses is read from the path's
Python module: the top-level function named after the feature, the names it references (annotations
included) that resolve to an import, and the same for the module's functions it calls.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drift_audit.core.errors import InputDataError

_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(==|>=|<=|~=|>|<)?\s*([^\s;#]*)")
_IMPORT_TO_DIST = {"sklearn": "scikit-learn", "yaml": "pyyaml", "dateutil": "python-dateutil", "PIL": "pillow",
                   "google": "protobuf"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirements(text: str) -> dict[str, str]:
    """name (normalized) -> version spec, from a requirements file or a `pip freeze` lock."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQ.match(line)
        if match:
            out[normalize(match.group(1))] = (match.group(2) or "") + (match.group(3) or "")
    return out


def read_lock(path: Path) -> dict[str, str]:
    """name -> pinned version spec from any supported requirements or lock file (chosen by file name)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputDataError(f"dependency file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        if path.name == "Pipfile.lock":
            data = json.loads(text)
            return {normalize(n): str(v.get("version", "")) for sec in ("default", "develop")
                    for n, v in data.get(sec, {}).items()}
        if path.suffix == ".lock" or path.name.endswith("lock.toml"):
            data = tomllib.loads(text)
            packages = data.get("package") or data.get("packages") or []
            return {normalize(p["name"]): f"=={p['version']}" for p in packages if "version" in p}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputDataError(f"dependency file {path} is not a valid lock file: {exc}") from None
    return parse_requirements(text)


def compare(offline: Mapping[str, str], online: Mapping[str, str]) -> list[dict[str, Any]]:
    """Libraries whose pinned versions differ between the two paths (or exist on one side only)."""
    out = []
    for name in sorted(set(offline) | set(online)):
        a, b = offline.get(name), online.get(name)
        if a != b:
            out.append({"library": name, "offline": a, "online": b})
    return out


@dataclass(frozen=True)
class ModuleInfo:
    path: str
    functions: tuple[str, ...]  # top-level function names (feature functions are named after the feature)
    imports: tuple[str, ...]  # distributions imported anywhere in the module, normalized
    uses: dict[str, tuple[str, ...]] = field(default_factory=dict)  # function -> distributions it uses


def module_info(path: Path) -> ModuleInfo:
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise InputDataError(f"transformation module {path} cannot be parsed: {exc}") from None
    aliases: dict[str, str] = {}  # local name -> distribution
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[(a.asname or a.name).split(".")[0]] = _dist(a.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
            for a in node.names:
                aliases[a.asname or a.name] = _dist(node.module)
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    direct = {name: _names(fn) for name, fn in funcs.items()}
    uses = {}
    for name in funcs:
        seen, stack = {name}, [name]
        while stack:  # the function and the module functions it calls, transitively
            for ref in direct[stack.pop()] & set(funcs):
                if ref not in seen:
                    seen.add(ref)
                    stack.append(ref)
        uses[name] = tuple(sorted({aliases[n] for f in seen for n in direct[f] if n in aliases}))
    return ModuleInfo(str(path), tuple(sorted(funcs)), tuple(sorted(set(aliases.values()))), uses)


def _dist(module: str) -> str:
    root = module.split(".")[0]
    return normalize(_IMPORT_TO_DIST.get(root, root))


def _names(fn: ast.FunctionDef) -> set[str]:
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}


def touching(differences: Sequence[Mapping[str, Any]], modules: Iterable[ModuleInfo], features: Iterable[str]
             ) -> dict[str, list[str]]:
    """library -> the given features whose function (in any of the modules) uses it, for each difference."""
    feats = sorted(set(features))
    out: dict[str, list[str]] = {d["library"]: [] for d in differences}
    for m in modules:
        for feature in feats:
            for lib in m.uses.get(feature, ()):
                if lib in out and feature not in out[lib]:
                    out[lib].append(feature)
    return {lib: sorted(fs) for lib, fs in out.items()}
