"""ontofetch: verified, versioned, policy-gated mirrors of ontologies.

The API is thin over the Rust pipeline (the same code as the ``ontofetch`` command) and
follows pystow's and DocsToKG's habits: ``pull`` returns one result dict per ontology with
DocsToKG's field names, ``ensure`` returns the local path of an ontology (pulling it first
when absent), errors raise :class:`OntofetchError` subclasses carrying the stable ``code``.
``PYSTOW_HOME`` and ``data_root`` behave exactly as for the command.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import tempfile
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

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
    "ensure_url",
    "plan",
    "pull",
    "show",
    "validate_file",
    "verify",
]

def __dir__() -> List[str]:
    """The API (``help(ontofetch)`` and completion show it, not the modules it uses)."""
    return sorted([*__all__, "__version__"])


PathLike = Union[str, "os.PathLike[str]"]
#: A spec: a ``sources.yaml`` path, or the same content built in Python (a dict with
#: ``defaults`` and ``ontologies``, or just the list of ontology entries).
Spec = Union[PathLike, Dict[str, Any], List[Dict[str, Any]]]


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


@contextlib.contextmanager
def _spec(spec: Optional[Spec]) -> Iterator[Optional[str]]:
    """A spec's path; a dict or list is written to a temporary file for the call (JSON is
    YAML, so it is read and checked exactly as a ``sources.yaml`` would be)."""
    if spec is None or isinstance(spec, (str, os.PathLike)):
        yield _path(spec)
        return
    doc = {"ontologies": spec} if isinstance(spec, list) else spec
    fd, name = tempfile.mkstemp(prefix="ontofetch-spec-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
        try:
            yield name
        except OntofetchError as e:
            # The temporary file means nothing to the caller: the error names the spec they
            # gave and the key in it (``ontologies[0].id``), which is where to look.
            raise _renamed(e, name) from None
    finally:
        os.unlink(name)


def _renamed(e: OntofetchError, temporary: str) -> OntofetchError:
    import re

    message = re.sub(re.escape(temporary) + r"(:\d+)?", "the spec given as a dict", str(e))
    return type(e)(message, e.code)


def _ids(ids: Union[None, str, Iterable[str]]) -> List[str]:
    if ids is None:
        return []
    if isinstance(ids, str):
        return [ids]
    return list(ids)


def check_url(url: str, *, spec: Optional[Spec] = None, data_root: Optional[PathLike] = None,
              allowed_hosts: Iterable[str] = ()) -> Dict[str, Any]:
    """The url gate's decision: ``{"allowed", "gate", "code", "reason", "normalized_url"}``.

    A refusal is an answer, not an exception."""
    with _spec(spec) as path:
        return json.loads(_native.check_url(url, path, _path(data_root), list(allowed_hosts)))


def pull(ids: Union[None, str, Iterable[str]] = None, *, spec: Optional[Spec] = None,
         data_root: Optional[PathLike] = None, force: bool = False, allowed_hosts: Iterable[str] = (),
         progress: Optional[Callable[[Dict[str, Any]], None]] = None,
         lock: Optional[PathLike] = None, with_imports: bool = False,
         lock_output: Optional[PathLike] = None) -> List[Dict[str, Any]]:
    """Pulls ``ids`` (default: every configured ontology) into the mirror.

    Returns one dict per ontology (``id``, ``status`` of fresh/updated/cached/failed,
    ``version``, ``sha256``, ``path``, ``error: {code, message}``…). A failed ontology is a
    result, not an exception; a bad configuration raises :class:`ConfigError`. ``progress``
    receives event dicts (``pull.start``, ``pull.bytes``, ``pull.validated``, ``pull.done``).
    With ``lock``, the lockfile's pinned plans are pulled (only ``ids`` of them when given),
    as ``ontofetch pull --lock`` does. ``with_imports`` also pulls what each ontology
    imports (``pull --with-imports``; ``defaults.follow_imports`` does it for every pull),
    the imported ontologies' results after the asked ones. The lockfile is handled as the
    command handles it (one use case serves both): ``lock_output`` records the pull there
    (``ontofetch pull`` writes ``ontologies.lock.json`` by default; this function writes
    none unless asked), and a pull from ``lock`` fills the pins it lacked into it. Each
    result carries the ``exit_code`` a pull of that ontology alone would exit with."""
    with _spec(spec) as path:
        out = _native.pull(_ids(ids), path, _path(data_root), force, list(allowed_hosts), progress, _path(lock),
                           with_imports, _path(lock_output))
    return json.loads(out)


def ensure(id: str, *, spec: Optional[Spec] = None, data_root: Optional[PathLike] = None,
           allowed_hosts: Iterable[str] = (), force: bool = False, mirror: Optional[str] = None,
           key: Optional[str] = None) -> pathlib.Path:
    """The local path of the latest stored original of ``id``, pulled first when absent
    (pystow's ``ensure``); with ``force``, fetched again first (no conditional request).
    Raises with the pull's code when it cannot be stored.

    With ``mirror`` (another ontofetch mirror's address) and ``key`` (its verifier key,
    ``ontofetch keys show`` there), ``id`` is pulled from that mirror: its bytes, signed
    attestation and transparency log are verified before anything is stored, and a log
    rolled back or rewritten since the last pull is refused (``E_LOG_INCONSISTENT``).

    The path names the version (``…/ontologies/<id>/<version>/original/<file>``): a newer
    release is stored beside it, never over it, so a path you hold keeps its bytes. On a
    local store, ``…/ontologies/<id>/latest/`` is the stable name that moves to each new
    version that validates."""
    with _spec(spec) as path:
        return pathlib.Path(_native.ensure(id, path, _path(data_root), list(allowed_hosts), force, mirror, key))


def ensure_url(url: str, *, name: str, spec: Optional[Spec] = None, data_root: Optional[PathLike] = None,
               allowed_hosts: Iterable[str] = (), force: bool = False) -> pathlib.Path:
    """Fetches an arbitrary URL into the mirror as ontology ``name`` (pystow's
    ``ensure(key, url=…)``): through every gate (the URL must be allowed: ``allowed_hosts``),
    validated, versioned and recorded like any ontology, its licence and version unknown
    unless the file states them. Returns the stored original's path, as :func:`ensure`."""
    with _spec(spec) as path:
        return pathlib.Path(_native.ensure_url(url, name, path, _path(data_root), list(allowed_hosts), force))


def plan(ids: Union[None, str, Iterable[str]] = None, *, spec: Optional[Spec] = None,
         data_root: Optional[PathLike] = None, allowed_hosts: Iterable[str] = (),
         lock_output: Optional[PathLike] = None) -> List[Dict[str, Any]]:
    """Download plans (resolved, probed, nothing downloaded): the lockfile entries, or
    ``{"id", "error": {code, message}}`` for a spec that did not plan. With
    ``lock_output``, the plans are also written there as a lockfile (as ``ontofetch plan``
    does; an entry that failed keeps the one the file had)."""
    with _spec(spec) as path:
        return json.loads(_native.plan(_ids(ids), path, _path(data_root), list(allowed_hosts), _path(lock_output)))


def show(id: str, *, spec: Optional[Spec] = None, data_root: Optional[PathLike] = None,
         allowed_hosts: Iterable[str] = ()) -> Dict[str, Any]:
    """The latest manifest of ``id`` (schema 1.0, DocsToKG's fields)."""
    with _spec(spec) as path:
        return json.loads(_native.show(id, path, _path(data_root), list(allowed_hosts)))


def validate_file(
    path: PathLike, *, spec: Optional[Spec] = None, output_dir: Optional[PathLike] = None
) -> Dict[str, Any]:
    """Validates a local file in an isolated worker (the same limits, normalisation and
    report as a pull and as ``ontofetch validate --file``): ``validator``, ``status``,
    ``statements``, ``terms``, ``normalized_sha256``, ``outputs``… The normalised files are
    kept in ``output_dir`` when given."""
    with _spec(spec) as spec_path:
        return json.loads(_native.validate_file(os.fspath(path), spec_path, _path(output_dir)))


def verify(id: Optional[str] = None, version: Optional[str] = None, *, file: Optional[PathLike] = None,
           attestation: Optional[PathLike] = None, key: Optional[str] = None, log: Optional[str] = None,
           spec: Optional[Spec] = None, data_root: Optional[PathLike] = None,
           allowed_hosts: Iterable[str] = ()) -> Dict[str, Any]:
    """Checks a stored version (``id``, default: its latest) or a local ``file`` against its
    signed attestation, as ``ontofetch verify`` does: the DSSE signature under ``key`` (the
    mirror's verifier key, ``name+id+key``; default: this mirror's own), every attested
    file's SHA-256, and the attestation's inclusion in the mirror's transparency log (for a
    ``file``, the log at ``log``: a served mirror's ``…/log`` URL or a directory). Returns
    ``{"ok", "id", "version", "key", "files", "url", "log"}``; raises :class:`RefusedError`
    with code ``E_ATTESTATION`` or ``E_LOG_INCONSISTENT`` when it does not hold."""
    if (id is None) == (file is None):
        raise ConfigError("give an ontology id or file=", "E_USAGE")
    with _spec(spec) as path:
        return json.loads(_native.verify(id, version, _path(file), _path(attestation), key, path, _path(data_root),
                                         list(allowed_hosts), log))
