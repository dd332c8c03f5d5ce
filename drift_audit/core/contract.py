"""The typed feature-contract model, parsed from protobuf descriptors by `adapters.protoc`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# proto scalar -> logical type shared by Arrow/Spark/Feast (table in docs/contracts.md)
NUMERIC_TYPES = frozenset({"float64", "float32", "int32", "int64"})
CATEGORICAL_TYPES = frozenset({"string", "bool"})
# closed vocabularies of options.proto (docs/contracts.md)
AGGREGATIONS = frozenset({"sum", "mean", "count", "max", "min", "last"})
CLASSIFICATIONS = frozenset({"public", "internal", "confidential", "restricted"})
TOKENIZATIONS = frozenset({"sha256", "hmac-sha256", "format-preserving", "tok"})


def parse_duration(text: str) -> float | None:
    """"26h" -> 93600.0 seconds; "" -> None; anything else -> ValueError."""
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"bad duration {text!r}: use a number and one of s, m, h, d, w (e.g. '26h')")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def parse_semver(text: str) -> tuple[int, int, int]:
    match = SEMVER.match(text)
    if not match:
        raise ValueError(f"bad semantic version {text!r}: expected MAJOR.MINOR.PATCH")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def key_line(text: str, start: int, key: str, block_end: str = ";") -> int:
    """Line of `key:` inside the option block that begins on line `start` (1-based), else `start`.

    Protobuf source info locates a whole aggregate option, not its keys; this finds the key so errors
    can point at `version: "2.1"` rather than at the message. The block ends at the first line that
    ends with `block_end` (";" for a field's options, "};" for a message's).
    """
    lines = text.splitlines()
    pattern = re.compile(rf"\b{re.escape(key)}\s*:")
    for i in range(max(start - 1, 0), len(lines)):
        if pattern.search(lines[i]):
            return i + 1
        stripped = lines[i].strip()
        if stripped.endswith(block_end) and (block_end != "};" or stripped == "};"):
            break
    return start


@dataclass(frozen=True)
class DriftOverrides:
    psi: float | None = None
    wasserstein: float | None = None
    js: float | None = None
    effect: float | None = None


@dataclass(frozen=True)
class Feature:
    name: str
    type: str  # logical type: float64 float32 int32 int64 bool string bytes timestamp
    proto_type: str
    line: int
    nullable: bool = False
    max_null_ratio: float | None = None
    default_value: str = ""
    allowed_values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    unit: str = ""
    timezone: str = ""
    window: str = ""
    aggregation: str = ""
    pii_class: str = ""
    tokenization: str = ""
    drift: DriftOverrides = DriftOverrides()
    owner: str = ""
    description: str = ""
    logical_type: str = ""
    number: int = 0

    @property
    def kind(self) -> str:
        """How drift is measured: "numeric" or "categorical"."""
        return "numeric" if self.type in NUMERIC_TYPES else "categorical"

    @property
    def is_pii(self) -> bool:
        return bool(self.pii_class)


@dataclass(frozen=True)
class Contract:
    group: str
    message: str  # full proto name
    file: str  # path relative to the contracts root
    line: int
    version: str
    owners: tuple[str, ...]
    entity_keys: tuple[str, ...]
    event_timestamp: str
    created_timestamp: str
    risk_tier: int
    freshness_sla_seconds: float | None
    consuming_models: tuple[str, ...]
    data_classification: str
    feature_view: str
    ttl_seconds: float | None
    deprecation_window: str
    features: tuple[Feature, ...]
    key_types: dict[str, str] = field(default_factory=dict)
    reserved_numbers: tuple[tuple[int, int], ...] = ()  # [start, end) ranges, as in descriptors
    reserved_names: tuple[str, ...] = ()

    def feature(self, name: str) -> Feature:
        for feat in self.features:
            if feat.name == name:
                return feat
        raise KeyError(f"{self.group} has no feature {name!r}")

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def owner(self) -> str:
        return self.owners[0] if self.owners else "unowned"

    @property
    def semver(self) -> tuple[int, int, int]:
        return parse_semver(self.version)

    def is_reserved(self, number: int, name: str) -> tuple[bool, bool]:
        """(number reserved, name reserved) in this message."""
        return any(start <= number < end for start, end in self.reserved_numbers), name in self.reserved_names

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Contract:
        feats = tuple(
            Feature(
                **{
                    **f,
                    "allowed_values": tuple(f["allowed_values"]),
                    "drift": DriftOverrides(**f["drift"]),
                }
            )
            for f in data["features"]
        )
        tuples = ("owners", "entity_keys", "consuming_models", "reserved_names")
        ranges = tuple((int(a), int(b)) for a, b in data.get("reserved_numbers", ()))
        return Contract(**{**data, **{k: tuple(data.get(k, ())) for k in tuples}, "features": feats,
                           "reserved_numbers": ranges})


TOKEN_PATTERNS = {"sha256": "^[0-9a-f]{64}$", "hmac-sha256": "^[0-9a-f]{64}$", "tok": "^tok_[A-Za-z0-9_-]+$"}
UNTOKENIZED = "untokenized:"


def token_pattern(feature: Feature) -> str | None:
    """The regular expression a tokenized value of this PII feature matches, when the tokenization has one."""
    return TOKEN_PATTERNS.get(feature.tokenization)


def masked_pii(value: object, feature: Feature) -> str | None:
    """What a sample keeps of a PII value: a token as is; anything else as "untokenized:" + its sha256.

    Raw PII never enters a sample, yet untokenized values stay countable (they do not match the pattern)."""
    if value is None:
        return None
    text = str(value)
    pattern = token_pattern(feature)
    if text.startswith(UNTOKENIZED) or (pattern and re.match(pattern, text)):
        return text
    return UNTOKENIZED + hashlib.sha256(text.encode()).hexdigest()
