"""Mechanical patches as unified diffs that `git apply` accepts. Pure text in, text out."""

from __future__ import annotations

import ast
import difflib
import re

from drift_audit.core.contract import parse_semver


def unified(path: str, before: str, after: str) -> str:
    """A `git apply`-able diff of one file, paths relative to the repository root."""
    if before == after:
        return ""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    text = "".join(lines)
    return f"diff --git a/{path} b/{path}\n{text}" if text.endswith("\n") else f"diff --git a/{path} b/{path}\n{text}\n"


def _function_span(source: str, name: str) -> tuple[int, int] | None:
    """(first line index, end line index) of top-level function `name`, 0-based, end exclusive."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            return start, node.end_lineno or node.lineno
    return None


def fix_timezone(source: str, function: str, timezone: str) -> str | None:
    """Make `function` convert to the contract's timezone (tz_convert / astimezone / ZoneInfo arguments)."""
    span = _function_span(source, function)
    if span is None:
        return None
    lines = source.splitlines(keepends=True)
    body = "".join(lines[span[0]:span[1]])
    fixed = re.sub(r'(tz_convert|astimezone|ZoneInfo|timezone)\(\s*["\'][^"\']+["\']\s*\)', rf'\1("{timezone}")', body)
    if fixed == body:
        return None
    return "".join(lines[:span[0]]) + fixed + "".join(lines[span[1]:])


def fix_scale(source: str, function: str, factor: float) -> str | None:
    """Undo a unit factor in `function`'s single return statement: online = factor x expected."""
    span = _function_span(source, function)
    if span is None:
        return None
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    returns = [n for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
    if len(returns) != 1 or returns[0].end_lineno != returns[0].lineno:
        return None
    ret = returns[0]
    lines = source.splitlines(keepends=True)
    line = lines[ret.lineno - 1]
    assert ret.value is not None
    expr = line[ret.value.col_offset:ret.value.end_col_offset]
    op, amount = ("/", factor) if factor >= 1 else ("*", 1 / factor)
    literal = f"{amount:.1f}" if float(amount).is_integer() else repr(amount)
    new = line[:ret.value.col_offset] + f"{expr} {op} {literal}" + line[ret.value.end_col_offset:]
    lines[ret.lineno - 1] = new
    return "".join(lines)


def replace_function(target: str, reference: str, function: str) -> str | None:
    """Replace `function` in `target` by its definition in `reference` (adding imports it needs)."""
    t_span, r_span = _function_span(target, function), _function_span(reference, function)
    if t_span is None or r_span is None:
        return None
    t_lines = target.splitlines(keepends=True)
    r_lines = reference.splitlines(keepends=True)
    new = "".join(t_lines[:t_span[0]]) + "".join(r_lines[r_span[0]:r_span[1]]) + "".join(t_lines[t_span[1]:])
    have = {ln.strip() for ln in target.splitlines() if ln.startswith(("import ", "from "))}
    missing = [ln for ln in reference.splitlines(keepends=True)
               if ln.startswith(("import ", "from ")) and ln.strip() not in have and "__future__" not in ln]
    if missing:
        new_lines = new.splitlines(keepends=True)
        first = next((i for i, ln in enumerate(new_lines)
                      if ln.startswith(("import ", "from ")) and "__future__" not in ln), 0)
        new_lines[first:first] = missing
        new = "".join(new_lines)
    return new if new != target else None


def bump_version(proto: str, part: str) -> tuple[str, str, str] | None:
    """Bump `version: "x.y.z"` in the group options; returns (new text, old, new version)."""
    match = re.search(r'(\bversion:\s*")(\d+\.\d+\.\d+)(")', proto)
    if not match:
        return None
    major, minor, patch = parse_semver(match.group(2))
    new = {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0", "patch": f"{major}.{minor}.{patch + 1}"}[part]
    return proto[:match.start(2)] + new + proto[match.end(2):], match.group(2), new


def add_allowed_value(proto: str, feature: str, value: str, enum_type: str | None) -> str | None:
    """Add `value` to a feature's allowed values: a new enum value, or an entry of `allowed_values`."""
    if enum_type:
        enum_name = enum_type.rsplit(".", 1)[-1]
        block = re.search(rf"enum {enum_name} \{{(?P<body>.*?)\n\}}", proto, re.S)
        if not block:
            return None
        numbers = [int(n) for n in re.findall(r"=\s*(\d+)\s*;", block.group("body"))]
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum_name).upper()
        entry = f"\n  {prefix}_{re.sub(r'[^A-Za-z0-9]', '_', value).upper()} = {max(numbers, default=0) + 1};"
        return proto[:block.end("body")] + entry + proto[block.end("body"):]
    field = re.search(rf"\b{re.escape(feature)} = \d+ \[.*?allowed_values: \[(?P<vals>[^\]]*)\]", proto, re.S)
    if not field:
        return None
    return proto[:field.end("vals")] + f', "{value}"' + proto[field.end("vals"):]


def align_requirement(text: str, library: str, version_spec: str) -> str | None:
    pattern = re.compile(rf"^(\s*{re.escape(library)}\s*)(==|>=|<=|~=)[^\s#;]+", re.I | re.M)
    new, count = pattern.subn(lambda m: m.group(1) + version_spec, text)
    return new if count and new != text else None


def add_feast_field(source: str, view: str, feature: str, feast_type: str) -> str | None:
    """Insert `Field(name=feature, dtype=...)` into the schema of FeatureView `view` in a definitions file."""
    start = re.search(rf'FeatureView\(\s*name="{re.escape(view)}"', source)
    if not start:
        return None
    schema = re.search(r"schema=\[(?P<body>.*?)\n(?P<indent>\s*)\],", source[start.end():], re.S)
    if not schema:
        return None
    body_end = start.end() + schema.end("body")
    indent = schema.group("indent") + "    "
    line = f'\n{indent}Field(name="{feature}", dtype={feast_type}),'
    return source[:body_end] + line + source[body_end:]
