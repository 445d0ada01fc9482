"""The local stack's moto server without working out again, for every request, what never changes.

Where moto 5.2's server spends a request's CPU before and around the service's own work (measured
with py-spy on the SQS process through a burst of 1,000 posts: 20 pollers, about 1,300 requests,
most of them ReceiveMessage):

- `DomainDispatcherApplication.get_backend_for_host` tells which service a request is for by
  listing moto's package directory (`list_of_moto_modules`: a `listdir` and an `isdir` for each
  of its 200-odd entries) and then trying the URL patterns of every service in turn: about a
  tenth of the SQS server's CPU, for an answer that depends on the host name alone;
- `BaseResponse.call_action` finds the action's method among `inspect.getmembers` of the
  response class, every request (about 4%);
- `camelcase_to_underscores`, a loop over the characters of a name, runs for the action's name
  on every request and, in SQS, for each of a queue's attribute names whenever its
  `attributes` are read (every SendMessage): about 2.5%;
- werkzeug writes the access log line of every request, formatting its date and path before
  its logger is asked whether the line is wanted (about 4%), when the stack throws the moto
  process's output away.

`apply` keeps every answer and remembers them instead: the backend found for a host (a host no
backend matches is looked up again, as moto does, so it still says so), each response class's
method names, and each name's underscored form; and an access log line is not made when
werkzeug's logger was set not to write it (`quiet`, which `herald.local.moto_server --quiet`
calls; a logger left unset is werkzeug's to set, as it does, and writes). Everything remembered
is a function of what it is remembered by, in a process that neither installs services nor
redefines response classes.

Only the local stack's moto server applies it (herald.local.moto_server and the stack's moto
thread), never the tests' `mock_aws`, never AWS. tests/integration/local/test_moto_requests.py
checks it against moto's own answers; against a moto whose internals moved, `apply` leaves moto as
it is and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from herald.local.moto_patches import Patches

_underscored: dict[str, str] = {}
_method_names: dict[type, list[str]] = {}
_BACKENDS = "_herald_backends"  # on each DomainDispatcherApplication: host -> backend found


def _remembered_backend(original: Callable[[Any, str | None], Any]) -> Callable[..., Any]:
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        found: dict[str | None, Any] = self.__dict__.setdefault(_BACKENDS, {})
        backend = found.get(host)
        if backend is None:
            backend = original(self, host)
            if backend is not None:  # no backend: moto's answer (and its message) every time
                found[host] = backend
        return backend

    return get_backend_for_host


def _remembered_names(original: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    def method_names_from_class(clazz: object) -> list[str]:
        if not isinstance(clazz, type):
            return original(clazz)
        names = _method_names.get(clazz)
        if names is None:
            names = _method_names[clazz] = original(clazz)
        return list(names)

    return method_names_from_class


def _remembered_underscores(original: Callable[[str], str]) -> Callable[[str], str]:
    def camelcase_to_underscores(argument: str) -> str:
        if type(argument) is not str:
            return original(argument)
        underscored = _underscored.get(argument)
        if underscored is None:
            underscored = original(argument)
            if len(_underscored) < 4096:  # names (actions, attributes), not an unbounded stream
                _underscored[argument] = underscored
        return underscored

    return camelcase_to_underscores


def _unwanted_access_log() -> bool:
    logger = logging.getLogger("werkzeug")
    # NOTSET: werkzeug sets INFO on its first line and writes it; so does the original.
    return logger.level != logging.NOTSET and not logger.isEnabledFor(logging.INFO)


def _quiet_log_request(original: Callable[..., None]) -> Callable[..., None]:
    def log_request(self: Any, code: int | str = "-", size: int | str = "-") -> None:
        if _unwanted_access_log():
            return  # werkzeug's logger would drop the line: not worth making
        original(self, code, size)

    return log_request


def quiet() -> None:
    """No access log line per request in this process (errors are still logged)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _targets() -> list[tuple[Any, str, Any]] | None:
    """(owner, attribute, replacement) for every patch, or None when moto's internals are not
    the ones this module was written against."""
    try:
        import moto.core.responses as responses
        import moto.core.utils as utils
        import moto.sqs.models as sqs_models
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
        from werkzeug.serving import WSGIRequestHandler
    except ImportError:
        return None
    to_underscores = utils.__dict__.get("camelcase_to_underscores")
    names = utils.__dict__.get("method_names_from_class")
    find = DomainDispatcherApplication.__dict__.get("get_backend_for_host")
    log_request = WSGIRequestHandler.__dict__.get("log_request")
    if to_underscores is None or names is None or find is None or log_request is None:
        return None
    needed = [
        # Each module calls the function through its own name for it: the one to replace.
        responses.__dict__.get("camelcase_to_underscores") is to_underscores,
        responses.__dict__.get("method_names_from_class") is names,
        sqs_models.__dict__.get("camelcase_to_underscores") is to_underscores,
        "log_request" not in MotoRequestHandler.__dict__,
    ]
    if not all(needed):
        return None
    underscores = _remembered_underscores(to_underscores)
    return [
        (DomainDispatcherApplication, "get_backend_for_host", _remembered_backend(find)),
        (responses, "method_names_from_class", _remembered_names(names)),
        (responses, "camelcase_to_underscores", underscores),
        (sqs_models, "camelcase_to_underscores", underscores),
        (MotoRequestHandler, "log_request", _quiet_log_request(log_request)),
    ]


def _forget() -> None:
    _underscored.clear()
    _method_names.clear()


_patches = Patches("server", _targets, on_undo=_forget)
apply = _patches.apply
undo = _patches.undo
patched = _patches.patched
