"""The exceptions drift_audit raises on purpose.

    DriftAuditError                 base; the CLI prints its message on one line and exits 2
    ├── ConfigError                 drift_audit.yaml: missing or bad key, path outside its root
    ├── ContractError               a contract does not compile or breaks a model rule (file:line)
    ├── InputDataError              a data file is missing, unreadable, empty or of the wrong type
    │   └── EmptyInputError         a side of a comparison has no rows (message contains "empty")
    ├── UnknownFeatureGroupError    a feature group that no contract or config declares
    ├── ServiceUnavailableError     Redis, MLflow or another store cannot be reached
    └── LedgerError                 the change log does not verify
"""

from __future__ import annotations

import re

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s:]+(?::[^/@\s]*)?@")
_KEY_SECRETS = re.compile(r"(?P<key>(?:password|passwd|token|secret|api_key)\s*[=:]\s*)[^,;&\s]+", re.I)


def redact(text: str) -> str:
    """Remove credentials from a message: `user:pass@` in URLs and `password=...`-style values."""
    return _KEY_SECRETS.sub(r"\g<key>***", _URL_CREDENTIALS.sub(r"\g<scheme>***@", text))


class DriftAuditError(Exception):
    """Base class: an error with a message that names what is wrong and where."""


class ConfigError(DriftAuditError):
    pass


class ContractError(DriftAuditError):
    pass


class InputDataError(DriftAuditError):
    pass


class EmptyInputError(InputDataError):
    pass


class UnknownFeatureGroupError(DriftAuditError):
    pass


class ServiceUnavailableError(DriftAuditError):
    pass


class LedgerError(DriftAuditError):
    pass
