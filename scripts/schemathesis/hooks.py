"""schemathesis hooks for `scripts/fuzz-api`: every request runs as an identity that is safe to spend.

- An operation that changes or ends its caller (logout, password, PATCH /users/me, PATCH
  /users/{id}, session revocation, preferences) runs as a brand-new user per request, so one case
  can never log the next one out.
- An operation only an admin may call runs as a brand-new admin per request, made by the first
  superuser, whose own token is never handed to the fuzzer.
- Everything else, and a request that breaks the schema (the server refuses it before it acts),
  runs as one shared user or one shared admin.
- Where a path names an account, session or task, a schema-valid request gets one the caller can
  reach (its own account or session, a task of its own file), so the fuzzer tests more than 403 and
  404; a destructive admin request aimed at an account the run depends on is pointed at a
  throwaway user instead, so the first superuser survives the run (the script checks it did).

Identities are made when a request is sent (`before_call`), not when a case is generated:
hypothesis generates and discards many more cases than are sent, and each identity costs two
Argon2 hashes on the server. The auth provider only marks the case; a check that strips or
replaces the credentials (`ignored_auth`) removes the mark and is left alone.
"""

from __future__ import annotations

import itertools
import os
import re
import threading

import requests
import schemathesis

BASE = os.environ["HEXGATE_FUZZ_URL"].rstrip("/")
SUPERUSER_EMAIL = os.environ["HEXGATE_FUZZ_SUPERUSER_EMAIL"]
SUPERUSER_PASSWORD = os.environ["HEXGATE_FUZZ_SUPERUSER_PASSWORD"]
PASSWORD = "Fuzzing-Passw0rd"
MARK = "Bearer hexgate-fuzz-identity"

_counter = itertools.count(1)
# Reentrant: making the shared admin asks for the superuser under the same lock.
_lock = threading.RLock()
_http = threading.local()
_shared: dict[str, dict] = {}

# Admin-only operations, by method and path template. Anything under /admin/ is an admin
# operation too, so new ones are covered without editing this list.
ADMIN_OPERATIONS = {
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users/batch"),
    ("PUT", "/api/v1/users/{id}/permissions"),
    ("DELETE", "/api/v1/users/{id}"),
    ("POST", "/api/v1/products"),
    ("PATCH", "/api/v1/products/{id}"),
    ("DELETE", "/api/v1/products/{id}"),
    ("GET", "/api/v1/audit-events"),
    ("DELETE", "/api/v1/users/{id}/second-factors"),
}
ADMIN_PREFIXES = ("/api/v1/admin/",)

# Operations after which the caller's token may be dead or the caller changed.
CALLER_CHANGING = {
    ("PATCH", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/{id}"),
    ("PUT", "/api/v1/users/{id}/preferences"),
}
# These end the caller's session even when the request is odd, so they never share a caller.
ALWAYS_FRESH = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/password"),
    ("DELETE", "/api/v1/auth/sessions/{id}"),
}

# Self-or-admin routes on an account: a user caller gets its own id.
OWN_ACCOUNT = re.compile(r"^/api/v1/users/\{id\}(/related|/preferences)?$")

# Admin operations that could disable, demote or delete the account named in the path.
DESTRUCTIVE_ON_USER = {
    ("PUT", "/api/v1/users/{id}/permissions"),
    ("DELETE", "/api/v1/users/{id}"),
    ("PATCH", "/api/v1/users/{id}"),
}

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _session() -> requests.Session:
    if not hasattr(_http, "session"):
        _http.session = requests.Session()
    return _http.session


def _call(method: str, path: str, expect: int, token: str | None = None, **kwargs) -> dict:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = _session().request(method, BASE + path, timeout=60, headers=headers, **kwargs)
    if response.status_code != expect:
        raise RuntimeError(f"fuzz-api hook: {method} {path} answered {response.status_code}: {response.text[:300]}")
    return response.json() if response.content else {}


def _login(username: str, password: str) -> str:
    form = {"username": username, "password": password}
    return _call("POST", "/api/v1/auth/token", 200, data=form)["access_token"]


def _new_account() -> dict:
    name = f"fz{os.getpid()}x{next(_counter)}"
    body = {"email": f"{name}@fuzz.example.com", "username": name, "password": PASSWORD}
    return {"id": _call("POST", "/api/v1/users", 201, json=body)["id"], "username": name}


def _superuser() -> dict:
    with _lock:
        if "superuser" not in _shared:
            token = _login(SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
            _shared["superuser"] = {"token": token, "id": _call("GET", "/api/v1/users/me", 200, token)["id"]}
        return _shared["superuser"]


def fresh_user() -> dict:
    account = _new_account()
    return {"id": account["id"], "token": _login(account["username"], PASSWORD)}


def fresh_admin() -> dict:
    account = _new_account()
    body = {"permissions": ["admin"]}
    _call("PUT", f"/api/v1/users/{account['id']}/permissions", 200, _superuser()["token"], json=body)
    return {"id": account["id"], "token": _login(account["username"], PASSWORD)}


def _shared_identity(kind: str) -> dict:
    with _lock:
        if kind not in _shared:
            _shared[kind] = fresh_admin() if kind == "admin" else fresh_user()
        return _shared[kind]


def _own_task(identity: dict) -> str:
    """A task of the caller's own file, made once per identity."""
    if "task" not in identity:
        files = {"file": ("fuzz.txt", b"hello\n", "text/plain")}
        identity["task"] = _call("POST", "/api/v1/files", 202, identity["token"], files=files)["task_id"]
    return identity["task"]


def _own_session(identity: dict) -> str:
    sessions = _call("GET", "/api/v1/auth/sessions", 200, identity["token"])
    return next(s["id"] for s in sessions if s["current"])


def _key(case) -> tuple[str, str]:
    return case.operation.method.upper(), case.operation.path


def _is_negative(case) -> bool:
    meta = getattr(case, "_meta", None)
    return meta is not None and meta.generation.mode.is_negative


def _identity_for(case) -> dict:
    key = _key(case)
    admin = key in ADMIN_OPERATIONS or key[1].startswith(ADMIN_PREFIXES)
    if key in ALWAYS_FRESH:
        return fresh_user()
    if _is_negative(case):
        return _shared_identity("admin" if admin else "user")
    if admin:
        return fresh_admin()
    if key in CALLER_CHANGING:
        return fresh_user()
    return _shared_identity("user")


@schemathesis.auth(refresh_interval=None)
class IdentityMark:
    """Marks a case; `before_call` turns the mark into a real identity when the case is sent."""

    def get(self, case, ctx):
        return MARK

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = data


@schemathesis.hook
def before_call(context, case, kwargs):
    if not case.headers or case.headers.get("Authorization") != MARK:
        return
    identity = _identity_for(case)
    case.headers["Authorization"] = f"Bearer {identity['token']}"
    key = _key(case)
    target = str((case.path_parameters or {}).get("id", ""))
    if not _UUID.match(target) or case.operation.method.upper() == "HEAD":
        return
    admin = key in ADMIN_OPERATIONS or key[1].startswith(ADMIN_PREFIXES)
    if key in DESTRUCTIVE_ON_USER and admin:
        protected = {_superuser()["id"]} | {s["id"] for s in _shared.values()}
        if target in protected:
            case.path_parameters["id"] = _new_account()["id"]
    elif OWN_ACCOUNT.match(key[1]):
        case.path_parameters["id"] = identity["id"]
    elif key == ("DELETE", "/api/v1/auth/sessions/{id}"):
        case.path_parameters["id"] = _own_session(identity)
    elif key == ("GET", "/api/v1/tasks/{id}"):
        case.path_parameters["id"] = _own_task(identity)
