"""The exceptions ontofetch raises, each carrying the stable ``code`` (``E_PRIVATE_IP``,
``E_VALIDATION``, …). They live in, and pickle as, ``ontofetch``: an error raised in a
``ProcessPoolExecutor`` worker reaches the parent as the same class with its code."""

from __future__ import annotations

from typing import Any, Optional, Tuple


class OntofetchError(Exception):
    """Base of every ontofetch error; ``.code`` is the stable code."""

    code: str = ""

    def __init__(self, message: str = "", code: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (str(self), self.code))


class RefusedError(OntofetchError):
    """A policy gate refused (a URL, a path, an archive entry…)."""


class ConfigError(OntofetchError):
    """Bad configuration or usage."""


class NotFoundError(OntofetchError):
    """The ontology or version is not in the mirror."""


class DownloadError(OntofetchError):
    """The registry or the network failed."""


class ValidationError(OntofetchError):
    """The ontology did not validate."""


for _cls in (OntofetchError, RefusedError, ConfigError, NotFoundError, DownloadError, ValidationError):
    _cls.__module__ = "ontofetch"
