"""Compile contracts with grpcio-tools' protoc and parse our custom options into `core.contract` models."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import grpc_tools
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from drift_audit.core.contract import (
    AGGREGATIONS,
    CLASSIFICATIONS,
    TOKENIZATIONS,
    Contract,
    DriftOverrides,
    Feature,
    key_line,
    parse_duration,
    parse_semver,
)
from drift_audit.core.errors import ContractError

OPTIONS_FILE = "drift_audit/v1/options.proto"
_WKT_INCLUDE = str(Path(grpc_tools.__file__).parent / "_proto")
_SCALARS = {
    descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE: "float64",
    descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT: "float32",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED32: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: "bool",
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: "string",
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: "bytes",
    descriptor_pb2.FieldDescriptorProto.TYPE_ENUM: "string",
}
_WRAPPERS = {
    ".google.protobuf.DoubleValue": "float64",
    ".google.protobuf.FloatValue": "float32",
    ".google.protobuf.Int32Value": "int32",
    ".google.protobuf.Int64Value": "int64",
    ".google.protobuf.UInt32Value": "int64",
    ".google.protobuf.UInt64Value": "int64",
    ".google.protobuf.BoolValue": "bool",
    ".google.protobuf.StringValue": "string",
    ".google.protobuf.BytesValue": "bytes",
}
_PROTOC_ERROR = re.compile(r"^(?P<file>[^:\s]+\.proto):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")


@dataclass(frozen=True)
class CompiledContracts:
    descriptor_set: bytes  # canonical FileDescriptorSet, imports included, no source info
    contracts: tuple[Contract, ...]
    files: tuple[str, ...]


def contract_files(root: Path) -> list[str]:
    """Every .proto under `root` except our options file, relative and sorted."""
    if not root.is_dir():
        raise ContractError(f"contracts folder not found: {root}")
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.proto")
        if p.relative_to(root).as_posix() != OPTIONS_FILE and ".git" not in p.parts
    )


def run_protoc(root: Path, files: list[str], source_info: bool) -> bytes:
    """Compile to a FileDescriptorSet; a compile error becomes a ContractError naming file:line."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        args = [sys.executable, "-m", "grpc_tools.protoc", f"-I{root.resolve()}", f"-I{_WKT_INCLUDE}",
                f"--descriptor_set_out={out}", "--include_imports"]
        if source_info:
            args.append("--include_source_info")
        proc = subprocess.run([*args, *files], cwd=root, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ContractError(_protoc_errors(proc.stderr, root))
        return out.read_bytes()


def _protoc_errors(stderr: str, root: Path) -> str:
    """protoc's first error as `<root>/<file>:<line>: message` (protoc names files by their disk path)."""
    errors = []
    for line in stderr.splitlines():
        match = _PROTOC_ERROR.match(line.strip())
        if match and not match["msg"].startswith(("warning:", "Suggested field numbers")):
            reported = Path(match["file"])
            with contextlib.suppress(ValueError):
                reported = root / reported.resolve().relative_to(root.resolve())
            errors.append(f"{reported}:{match['line']}: {match['msg']}")
    if not errors:
        return f"protoc failed in {root}: {stderr.strip().splitlines()[-1] if stderr.strip() else 'no output'}"
    more = f" (and {len(errors) - 1} more protoc errors)" if len(errors) > 1 else ""
    return errors[0] + more


def compile_contracts(root: Path) -> CompiledContracts:
    files = contract_files(root)
    if not files:
        raise ContractError(f"no .proto contracts under {root}")
    with_info = descriptor_pb2.FileDescriptorSet.FromString(run_protoc(root, files, source_info=True))
    contracts = tuple(parse_contracts(with_info, set(files), root))
    canonical = descriptor_pb2.FileDescriptorSet()
    for fd in sorted(with_info.file, key=lambda f: f.name):
        copy = canonical.file.add()
        copy.CopyFrom(fd)
        copy.ClearField("source_code_info")
    return CompiledContracts(canonical.SerializeToString(deterministic=True), contracts, tuple(files))


class _OptionReader:
    """Reads our custom options from descriptors through a private pool (no generated code needed)."""

    def __init__(self, fds: descriptor_pb2.FileDescriptorSet) -> None:
        self.pool = descriptor_pool.DescriptorPool()
        for fd in fds.file:
            self.pool.Add(fd)
        message_factory.GetMessageClassesForFiles([fd.name for fd in fds.file], self.pool)
        self.msg_options = message_factory.GetMessageClass(
            self.pool.FindMessageTypeByName("google.protobuf.MessageOptions"))
        self.field_options = message_factory.GetMessageClass(
            self.pool.FindMessageTypeByName("google.protobuf.FieldOptions"))
        try:
            self.group_ext = self.pool.FindExtensionByName("drift_audit.v1.group")
            self.feature_ext = self.pool.FindExtensionByName("drift_audit.v1.feature")
        except KeyError:
            self.group_ext = self.feature_ext = None

    def group(self, proto: descriptor_pb2.DescriptorProto):  # type: ignore[no-untyped-def]
        if self.group_ext is None or not proto.HasField("options"):
            return None
        opts = self.msg_options.FromString(proto.options.SerializeToString())
        return opts.Extensions[self.group_ext] if opts.HasExtension(self.group_ext) else None

    def feature(self, proto: descriptor_pb2.FieldDescriptorProto):  # type: ignore[no-untyped-def]
        if self.feature_ext is None or not proto.HasField("options"):
            return None
        opts = self.field_options.FromString(proto.options.SerializeToString())
        return opts.Extensions[self.feature_ext] if opts.HasExtension(self.feature_ext) else None


def _lines(fd: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], int]:
    return {tuple(loc.path): loc.span[0] + 1 for loc in fd.source_code_info.location}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _enum_values(fds: descriptor_pb2.FileDescriptorSet, type_name: str) -> tuple[str, ...]:
    """Enum `LoyaltyTier {LOYALTY_TIER_GOLD}` -> data value "gold"; the zero (unspecified) value is skipped."""
    for fd in fds.file:
        prefix = f".{fd.package}." if fd.package else "."
        for enum in fd.enum_type:
            if prefix + enum.name == type_name:
                strip = _snake(enum.name).upper() + "_"
                return tuple(v.name.removeprefix(strip).lower() for v in enum.value if v.number != 0)
        for msg in fd.message_type:
            for enum in msg.enum_type:
                if f"{prefix}{msg.name}.{enum.name}" == type_name:
                    strip = _snake(enum.name).upper() + "_"
                    return tuple(v.name.removeprefix(strip).lower() for v in enum.value if v.number != 0)
    return ()


class _Locator:
    """Turns (file, line, option key) into `<root>/<file>:<line>` for errors; reads the source only then."""

    def __init__(self, root: Path, file: str) -> None:
        self.path = root / file
        self._text: str | None = None

    def at(self, line: int, key: str = "", block_end: str = ";") -> str:
        if key:
            if self._text is None:
                self._text = self.path.read_text(errors="replace") if self.path.is_file() else ""
            line = key_line(self._text, line, key, block_end)
        return f"{self.path}:{line}"

    def fail(self, line: int, key: str, message: str, block_end: str = ";") -> ContractError:
        return ContractError(f"{self.at(line, key, block_end)}: {message}")


def parse_contracts(fds: descriptor_pb2.FileDescriptorSet, files: set[str], root: Path) -> list[Contract]:
    reader = _OptionReader(fds)
    contracts: list[Contract] = []
    seen: dict[str, str] = {}
    for fd in fds.file:
        if fd.name not in files:
            continue
        lines = _lines(fd)
        loc = _Locator(root, fd.name)
        for mi, msg in enumerate(fd.message_type):
            group = reader.group(msg)
            if group is None:
                continue
            contract = _contract(fds, reader, fd, mi, msg, group, lines, loc)
            where = loc.at(contract.line)
            if contract.group in seen:
                raise ContractError(f"{where}: feature group {contract.group!r} is also defined at {seen[contract.group]}")
            seen[contract.group] = where
            contracts.append(contract)
    return sorted(contracts, key=lambda c: c.group)


def _contract(fds, reader, fd, mi, msg, group, lines, loc: _Locator) -> Contract:  # type: ignore[no-untyped-def]
    name = group.name or _snake(msg.name)
    line = lines.get((4, mi), 1)

    def fail(key: str, message: str) -> ContractError:
        return loc.fail(line, key, message, block_end="};")

    durations = {}
    for key in ("freshness_sla", "ttl", "deprecation_window"):
        try:
            durations[key] = parse_duration(getattr(group, key))
        except ValueError as exc:
            raise fail(key, f"{key}: {exc}") from None
    try:
        parse_semver(group.version)
    except ValueError as exc:
        raise fail("version", f"group {name!r}: {exc}") from None
    if group.risk_tier not in (1, 2, 3):
        raise fail("risk_tier", f"risk_tier must be 1, 2 or 3, got {group.risk_tier}")
    if group.data_classification and group.data_classification not in CLASSIFICATIONS:
        raise fail("data_classification", f"data_classification {group.data_classification!r} is not one of "
                   f"{', '.join(sorted(CLASSIFICATIONS))}")
    fields = {f.name: f for f in msg.field}
    if not group.entity_keys:
        raise fail("entity_keys", f"group {name!r} declares no entity_keys")
    if not group.event_timestamp:
        raise fail("event_timestamp", f"group {name!r} declares no event_timestamp")
    for key, option in [*((k, "entity_keys") for k in group.entity_keys),
                        (group.event_timestamp, "event_timestamp"), (group.created_timestamp, "created_timestamp")]:
        if key and key not in fields:
            raise fail(option, f"{option} names {key!r}, which is not a field of {msg.name}")
    if len(set(group.entity_keys)) != len(group.entity_keys):
        raise fail("entity_keys", f"entity_keys repeats a field: {list(group.entity_keys)}")
    reserved = {*group.entity_keys, group.event_timestamp, group.created_timestamp}
    features = []
    key_types = {}
    for fi, fproto in enumerate(msg.field):
        if fproto.name in reserved:
            key_types[fproto.name] = _logical_type(fproto)[0]
            continue
        features.append(_feature(fds, reader, fproto, lines.get((4, mi, 2, fi), 1), loc))
    prefix = f"{fd.package}." if fd.package else ""
    return Contract(
        group=name, message=prefix + msg.name, file=fd.name, line=line,
        version=group.version, owners=tuple(group.owners), entity_keys=tuple(group.entity_keys),
        event_timestamp=group.event_timestamp, created_timestamp=group.created_timestamp,
        risk_tier=group.risk_tier, freshness_sla_seconds=durations["freshness_sla"],
        consuming_models=tuple(group.consuming_models), data_classification=group.data_classification,
        feature_view=group.feature_view or name, ttl_seconds=durations["ttl"],
        deprecation_window=group.deprecation_window, features=tuple(features), key_types=key_types,
        reserved_numbers=tuple((r.start, r.end) for r in msg.reserved_range),
        reserved_names=tuple(msg.reserved_name),
    )


def _logical_type(fproto: descriptor_pb2.FieldDescriptorProto) -> tuple[str, bool]:
    """(logical type, nullable by presence)."""
    optional = fproto.proto3_optional
    if fproto.type == descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE:
        if fproto.type_name == ".google.protobuf.Timestamp":
            return "timestamp", True
        if fproto.type_name in _WRAPPERS:
            return _WRAPPERS[fproto.type_name], True
        return "unsupported:" + fproto.type_name.lstrip("."), True
    return _SCALARS.get(fproto.type, f"unsupported:{fproto.type}"), optional


def _feature(fds, reader, fproto, line: int, loc: _Locator) -> Feature:  # type: ignore[no-untyped-def]
    ftype, nullable = _logical_type(fproto)
    name = fproto.name

    def fail(key: str, message: str) -> ContractError:
        return loc.fail(line, key, f"feature {name!r}: {message}")

    if ftype.startswith("unsupported:"):
        raise fail("", f"type {ftype[12:]} is not a feature type")
    if fproto.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
        raise fail("", "repeated fields are not a supported feature type")
    opts = reader.feature(fproto)
    allowed: tuple[str, ...] = ()
    if fproto.type == descriptor_pb2.FieldDescriptorProto.TYPE_ENUM:
        allowed = _enum_values(fds, fproto.type_name)
    if opts is None:
        return Feature(name=name, type=ftype, proto_type=_proto_type_name(fproto), line=line,
                       nullable=nullable, allowed_values=allowed, number=fproto.number)
    drift = DriftOverrides(**{k: getattr(opts.drift, k) if opts.drift.HasField(k) else None
                              for k in ("psi", "wasserstein", "js", "effect")})
    feature = Feature(
        name=name, type=ftype, proto_type=_proto_type_name(fproto), line=line,
        nullable=opts.nullable if opts.HasField("nullable") else nullable,
        max_null_ratio=opts.max_null_ratio if opts.HasField("max_null_ratio") else None,
        default_value=opts.default_value, allowed_values=tuple(opts.allowed_values) or allowed,
        min=opts.min if opts.HasField("min") else None, max=opts.max if opts.HasField("max") else None,
        unit=opts.unit, timezone=opts.timezone, window=opts.window, aggregation=opts.aggregation,
        pii_class=opts.pii_class, tokenization=opts.tokenization, drift=drift, owner=opts.owner,
        description=opts.description, logical_type=opts.logical_type, number=fproto.number,
    )
    problem = _feature_problem(feature)
    if problem:
        raise fail(*problem)
    return feature


def _feature_problem(f: Feature) -> tuple[str, str] | None:
    """(option key, what is wrong) for option values that cannot be right, else None."""
    if f.min is not None and f.max is not None and f.min > f.max:
        return "max", f"min {f.min:g} is greater than max {f.max:g}"
    if (f.min is not None or f.max is not None) and f.kind != "numeric":
        return "min" if f.min is not None else "max", f"min/max need a numeric type, not {f.type}"
    if f.max_null_ratio is not None and not 0 <= f.max_null_ratio <= 1:
        return "max_null_ratio", f"max_null_ratio {f.max_null_ratio:g} is not between 0 and 1"
    if len(set(f.allowed_values)) != len(f.allowed_values):
        return "allowed_values", f"allowed_values repeats a value: {list(f.allowed_values)}"
    if f.window:
        try:
            parse_duration(f.window)
        except ValueError as exc:
            return "window", f"window: {exc}"
    if f.aggregation and f.aggregation not in AGGREGATIONS:
        return "aggregation", f"aggregation {f.aggregation!r} is not one of {', '.join(sorted(AGGREGATIONS))}"
    if f.tokenization and f.tokenization not in TOKENIZATIONS:
        return "tokenization", f"tokenization {f.tokenization!r} is not one of {', '.join(sorted(TOKENIZATIONS))}"
    if f.timezone and not _known_timezone(f.timezone):
        return "timezone", f"timezone {f.timezone!r} is not an IANA time zone name"
    if f.default_value:
        if f.allowed_values and f.default_value not in f.allowed_values:
            return "default_value", f"default_value {f.default_value!r} is not among the allowed values"
        if f.kind == "numeric":
            try:
                value = float(f.default_value)
            except ValueError:
                return "default_value", f"default_value {f.default_value!r} is not a number"
            if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
                return "default_value", f"default_value {f.default_value} is outside [min, max]"
        if f.type == "bool" and f.default_value not in ("true", "false"):
            return "default_value", f"default_value {f.default_value!r} of a bool must be true or false"
    return None


def _known_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _proto_type_name(fproto: descriptor_pb2.FieldDescriptorProto) -> str:
    if fproto.type_name:
        return fproto.type_name.lstrip(".")
    return descriptor_pb2.FieldDescriptorProto.Type.Name(fproto.type).removeprefix("TYPE_").lower()
