"""ontofetch: verified, versioned, policy-gated mirrors of ontologies.

The API is thin over the Rust pipeline (the same code as the ``ontofetch`` command) and
follows pystow's and DocsToKG's habits: ``pull`` returns one result dict per ontology with
DocsToKG's field names, ``ensure`` returns the local path of an ontology (pulling it first
when absent), errors raise :class:`OntofetchError` subclasses carrying the stable ``code``.
``PYSTOW_HOME`` and ``data_root`` behave exactly as for the command.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

from ontofetch import _native
from ontofetch.errors import (
    ConfigError,
    DownloadError,
    NotFoundError,
    OntofetchError,
    RefusedError,
    ValidationError,
)

__version__ = _native.__version__

__all__ = [
    "ConfigError",
    "DownloadError",
    "NotFoundError",
    "OntofetchError",
    "RefusedError",
    "ValidationError",
    "check_url",
    "ensure",
    "plan",
    "pull",
    "show",
    "validate_file",
]

PathLike = Union[str, "os.PathLike[str]"]


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def _ids(ids: Union[None, str, Iterable[str]]) -> List[str]:
    if ids is None:
        return []
    if isinstance(ids, str):
        return [ids]
    return list(ids)


def check_url(url: str, *, spec: Optional[PathLike] = None, data_root: Optional[PathLike] = None,
              allowed_hosts: Iterable[str] = ()) -> Dict[str, Any]:
    """The url gate's decision: ``{"allowed", "gate", "code", "reason", "normalized_url"}``.

    A refusal is an answer, not an exception."""
    return json.loads(_native.check_url(url, _path(spec), _path(data_root), list(allowed_hosts)))


def pull(ids: Union[None, str, Iterable[str]] = None, *, spec: Optional[PathLike] = None,
         data_root: Optional[PathLike] = None, force: bool = False, allowed_hosts: Iterable[str] = (),
         progress: Optional[Callable[[Dict[str, Any]], None]] = None) -> List[Dict[str, Any]]:
    """Pulls ``ids`` (default: every configured ontology) into the mirror.

    Returns one dict per ontology (``id``, ``status`` of fresh/updated/cached/failed,
    ``version``, ``sha256``, ``path``, ``error: {code, message}``…). A failed ontology is a
    result, not an exception; a bad configuration raises :class:`ConfigError`. ``progress``
    receives event dicts (``pull.start``, ``pull.bytes``, ``pull.validated``, ``pull.done``)."""
    return json.loads(_native.pull(_ids(ids), _path(spec), _path(data_root), force, list(allowed_hosts), progress))


def ensure(id: str, *, spec: Optional[PathLike] = None, data_root: Optional[PathLike] = None,
           allowed_hosts: Iterable[str] = ()) -> pathlib.Path:
    """The local path of the latest stored original of ``id``, pulled first when absent
    (pystow's ``ensure``). Raises with the pull's code when it cannot be stored."""
    return pathlib.Path(_native.ensure(id, _path(spec), _path(data_root), list(allowed_hosts)))


def plan(ids: Union[None, str, Iterable[str]] = None, *, spec: Optional[PathLike] = None,
         data_root: Optional[PathLike] = None, allowed_hosts: Iterable[str] = ()) -> List[Dict[str, Any]]:
    """Download plans (resolved, probed, nothing downloaded): the lockfile entries, or
    ``{"id", "error": {code, message}}`` for a spec that did not plan."""
    return json.loads(_native.plan(_ids(ids), _path(spec), _path(data_root), list(allowed_hosts)))


def show(id: str, *, spec: Optional[PathLike] = None, data_root: Optional[PathLike] = None,
         allowed_hosts: Iterable[str] = ()) -> Dict[str, Any]:
    """The latest manifest of ``id`` (schema 1.0, DocsToKG's fields)."""
    return json.loads(_native.show(id, _path(spec), _path(data_root), list(allowed_hosts)))


def validate_file(
    path: PathLike, *, spec: Optional[PathLike] = None, output_dir: Optional[PathLike] = None
) -> Dict[str, Any]:
    """Validates a local file in an isolated worker (the same limits, normalisation and
    report as a pull and as ``ontofetch validate --file``): ``validator``, ``status``,
    ``statements``, ``terms``, ``normalized_sha256``, ``outputs``… The normalised files are
    kept in ``output_dir`` when given."""
    return json.loads(_native.validate_file(os.fspath(path), _path(spec), _path(output_dir)))
