"""One error hierarchy for stylecast.

Every error a user can cause derives from :class:`StylecastError` *and* from the
matching builtin, so ``except ValueError`` keeps working for callers that do not
know about stylecast. Messages say what to do next; the CLI prints them as one
line and exits 1 (tracebacks only with ``--debug``).
"""

from __future__ import annotations

__all__ = [
    "StylecastError",
    "ConfigError",
    "DataError",
    "ModelError",
    "RunError",
    "MissingDependencyError",
    "NotFittedError",
]


class StylecastError(Exception):
    """Base class of every error stylecast raises on purpose."""


class ConfigError(StylecastError, ValueError):
    """A configuration value, key or file is invalid."""


class DataError(StylecastError, ValueError):
    """The images, manifest or split cannot be used as asked."""


class ModelError(StylecastError, RuntimeError):
    """A backbone or its weights cannot be created or loaded."""


class RunError(StylecastError, RuntimeError):
    """A run folder is missing, incomplete or incompatible with the request."""


class MissingDependencyError(StylecastError, ImportError):
    """An optional dependency (an extra) is not installed."""


class NotFittedError(StylecastError, AttributeError):
    """A model was used before ``fit``."""
