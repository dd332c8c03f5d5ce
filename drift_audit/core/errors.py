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
