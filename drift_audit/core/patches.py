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


def function_for(source: str, feature: str) -> str | None:
    """The top-level function computing `feature`: named after it, else the one named `<feature>_*`."""
    names = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    if feature in names:
        return feature
    prefixed = [n for n in names if n.startswith(f"{feature}_")]
    return prefixed[0] if len(prefixed) == 1 else None


def replace_function(target: str, reference: str, function: str) -> str | None:
    """Replace `function` in `target` by its definition in `reference`, adding the imports it needs."""
    t_span, r_span = _function_span(target, function), _function_span(reference, function)
    if t_span is None or r_span is None:
        return None
    t_lines = target.splitlines(keepends=True)
    r_lines = reference.splitlines(keepends=True)
    body = "".join(r_lines[r_span[0]:r_span[1]])
    new = "".join(t_lines[:t_span[0]]) + body + "".join(t_lines[t_span[1]:])
    used = {n.id for n in ast.walk(ast.parse(body)) if isinstance(n, ast.Name)}
    have = {ln.strip() for ln in target.splitlines() if ln.startswith(("import ", "from "))}
    missing = [ln for ln in reference.splitlines(keepends=True)
               if ln.startswith(("import ", "from ")) and ln.strip() not in have and "__future__" not in ln
               and _bound_names(ln) & used]
    for ln in missing:  # before the first import that sorts after it, as isort would place it
        new_lines = new.splitlines(keepends=True)
        imports = [i for i, x in enumerate(new_lines) if x.startswith(("import ", "from ")) and "__future__" not in x]
        at = next((i for i in imports if new_lines[i] > ln), imports[-1] + 1 if imports else 0)
        new = "".join([*new_lines[:at], ln, *new_lines[at:]])
    return new if new != target else None


def _bound_names(import_line: str) -> set[str]:
    node = ast.parse(import_line.strip()).body[0]
    assert isinstance(node, ast.Import | ast.ImportFrom)
    return {(a.asname or a.name).split(".")[0] for a in node.names}


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


# --- protobuf contract edits (text-level, so comments and layout survive) -------------------------------

PROTO_TYPES = {"float64": "double", "float32": "float", "int32": "int32", "int64": "int64", "bool": "bool",
               "string": "string", "bytes": "bytes"}
_FEATURE_OPTION = "(drift_audit.v1.feature) = {"


def _skip_brackets(text: str, start: int) -> int:
    """Index just past the `]` matching the `[` at `start`, skipping string literals."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = text.index('"', i + 1)
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced [ ] in the contract")


def field_span(proto: str, name: str) -> tuple[int, int, int, tuple[int, int] | None] | None:
    """(line start, end past `;`, field number, options `[...]` span) of field `name`, or None."""
    match = re.search(rf"^[ \t]*(?:optional[ \t]+)?[\w.]+[ \t]+{re.escape(name)}[ \t]*=[ \t]*(\d+)[ \t]*", proto, re.M)
    if not match:
        return None
    pos, options = match.end(), None
    if proto[pos:pos + 1] == "[":
        options = (pos, _skip_brackets(proto, pos))
        pos = options[1]
    end = proto.index(";", pos) + 1
    return match.start(), end, int(match.group(1)), options


def set_feature_option(proto: str, feature: str, key: str, literal: str) -> str | None:
    """Set `key: literal` in the feature's `(drift_audit.v1.feature)` options (replacing a previous value)."""
    span = field_span(proto, feature)
    if span is None:
        return None
    start, end, _, options = span
    decl = proto[start:end]
    entry = f"{key}: {literal}"
    if options is None:
        new = re.sub(r"=\s*(\d+)\s*;$", rf"= \1 [{_FEATURE_OPTION}\n    {entry}\n  }}];", decl)
    elif _FEATURE_OPTION in decl:
        if re.search(rf"^[ \t]*{key}:", decl, re.M):
            new = re.sub(rf"^([ \t]*){key}:.*$", lambda m: m.group(1) + entry, decl, count=1, flags=re.M)
        else:
            close = decl.rindex("}")
            new = decl[:close] + f"  {entry}\n  " + decl[close:].lstrip(" ")
    else:
        close = options[1] - 1 - start
        new = decl[:close] + f", {_FEATURE_OPTION}\n    {entry}\n  }}" + decl[close:]
    return proto[:start] + new + proto[end:]


def deprecate_field(proto: str, feature: str) -> str | None:
    """Mark a field `deprecated = true` (a standard option: generated code warns, the wire is unchanged)."""
    span = field_span(proto, feature)
    if span is None:
        return None
    start, end, _, options = span
    decl = proto[start:end]
    if "deprecated = true" in decl:
        return None
    if options is None:
        new = re.sub(r"=\s*(\d+)\s*;$", r"= \1 [deprecated = true];", decl)
    else:
        at = options[0] + 1 - start
        new = decl[:at] + "deprecated = true, " + decl[at:]
    return proto[:start] + new + proto[end:]


def add_field_after(proto: str, feature: str, new_name: str, new_type: str, comment: str) -> str | None:
    """Add `new_type new_name = <next number>` after `feature`, copying its options (minus deprecation)."""
    span = field_span(proto, feature)
    if span is None or field_span(proto, new_name) is not None:
        return None
    _, end, _, options = span
    used = [int(n) for n in re.findall(r"=\s*(\d+)\s*[\[;]", proto)]
    used += [int(n) for n in re.findall(r"reserved\s+(\d+)", proto)]
    opts = ""
    if options is not None:
        opts = " " + proto[options[0]:options[1]].replace("deprecated = true, ", "").replace("[deprecated = true]", "")
    line = f"\n  // {comment}\n  {new_type} {new_name} = {max(used, default=0) + 1}{opts.rstrip()};"
    return proto[:end] + line + proto[end:]


def remove_field(proto: str, feature: str) -> str | None:
    """Delete a field (with its leading comment) and reserve its number and name."""
    span = field_span(proto, feature)
    if span is None:
        return None
    start, end, number, _ = span
    lines = proto[:start].splitlines(keepends=True)
    while lines and lines[-1].strip().startswith("//"):
        lines.pop()
    head = "".join(lines)
    indent = re.match(r"[ \t]*", proto[start:]).group(0)  # type: ignore[union-attr]
    return f'{head}{indent}reserved {number};\n{indent}reserved "{feature}";' + proto[end:]


def set_group_option(proto: str, key: str, literal: str) -> str | None:
    """Set `key: literal` in the message's `(drift_audit.v1.group)` options, after `version`."""
    existing = re.search(rf"^([ \t]*){key}:.*$", proto, re.M)
    if existing:
        return proto[:existing.start()] + f"{existing.group(1)}{key}: {literal}" + proto[existing.end():]
    version = re.search(r'^([ \t]*)version:[ \t]*"[^"]*"[ \t]*$', proto, re.M)
    if not version:
        return None
    return proto[:version.end()] + f"\n{version.group(1)}{key}: {literal}" + proto[version.end():]
