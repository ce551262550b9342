"""TLS and basic auth for the sidecar's HTTP endpoints, from a Prometheus `web-config.yml`-style file.

    tls_server_config:
      cert_file: server.crt            # paths relative to this file
      key_file: server.key
      client_ca_file: ca.crt           # optional: with client_auth_type, verify client certificates
      client_auth_type: RequireAndVerifyClientCert
      min_version: TLS12               # TLS12 (default) or TLS13
    basic_auth_users:
      prometheus: $2y$10$...           # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':')

A password that verified once is remembered (as a SHA-256 of user and password)
so a scrape does not cost a bcrypt; wrong ones cost one every time, off the event
loop and at most two at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ssl
from pathlib import Path
from typing import Literal

import bcrypt
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import Field, field_validator

from slotail.config.load import load_model_text, read_text
from slotail.config.model import Strict
from slotail.errors import ConfigError, ConfigIssue

CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
BCRYPT_CHECKS_AT_ONCE = 2
REALM = 'Basic realm="slotail"'


class TLSServerConfig(Strict):
    """The server certificate, and optionally client certificate verification."""

    cert_file: str
    key_file: str
    client_ca_file: str | None = None
    client_auth_type: Literal["NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"] = (
        "NoClientCert"
    )
    min_version: Literal["TLS12", "TLS13"] = "TLS12"


class WebConfig(Strict):
    """What `--web-config` holds."""

    tls_server_config: TLSServerConfig | None = None
    basic_auth_users: dict[str, str] = Field(default_factory=dict)

    @field_validator("basic_auth_users")
    @classmethod
    def _hashes(cls, users: dict[str, str]) -> dict[str, str]:
        for user, hashed in users.items():
            if not hashed.startswith(("$2a$", "$2b$", "$2y$")) or len(hashed) != 60:
                raise ValueError(f"expected a bcrypt hash ($2y$...) for user {user!r}")
        return users


def load_web_config(path: Path) -> WebConfig:
    """Read and validate a web config file; raises ConfigError with key paths and lines."""
    return load_model_text(read_text(path), WebConfig, str(path))


def ssl_context(config: TLSServerConfig, base_dir: Path, source: str) -> ssl.SSLContext:
    """A server-side SSL context; a file that cannot be loaded is a ConfigError naming its key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = TLS_VERSIONS[config.min_version]

    def fail(key: str, exc: Exception) -> ConfigError:
        return ConfigError(source, [ConfigIssue(f"tls_server_config.{key}", None, f"cannot load: {exc}")])

    try:
        context.load_cert_chain(base_dir / config.cert_file, base_dir / config.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise fail("cert_file", exc) from None
    context.verify_mode = CLIENT_AUTH[config.client_auth_type]
    if config.client_auth_type != "NoClientCert":
        if config.client_ca_file is None:
            raise fail("client_ca_file", ValueError("required by client_auth_type")) from None
        try:
            context.load_verify_locations(base_dir / config.client_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise fail("client_ca_file", exc) from None
    return context


class BasicAuth:
    """Checks `Authorization: Basic` headers against bcrypt hashes, remembering those that verified."""

    def __init__(self, users: dict[str, str]) -> None:
        self._users = {user: hashed.encode() for user, hashed in users.items()}
        # Unknown users cost a bcrypt too, so timing does not tell which users exist.
        self._decoy = bcrypt.hashpw(b"decoy", bcrypt.gensalt(10))
        self._verified: set[bytes] = set()  # at most one entry per user: only right passwords get in
        self._checks = asyncio.Semaphore(BCRYPT_CHECKS_AT_ONCE)

    async def allows(self, header: str | None) -> bool:
        credentials = _credentials(header)
        if credentials is None:
            return False
        user, password = credentials
        key = hashlib.sha256(user + b"\0" + password).digest()
        if key in self._verified:
            return True
        hashed = self._users.get(user.decode(errors="replace"))
        async with self._checks:
            ok = await asyncio.to_thread(_checkpw, password, hashed or self._decoy)
        if ok and hashed is not None:
            self._verified.add(key)
            return True
        return False

    def middleware(self) -> Middleware:
        """An aiohttp middleware answering 401 to every request without valid credentials."""

        @web.middleware
        async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not await self.allows(request.headers.get("Authorization")):
                return web.Response(status=401, text="unauthorized\n", headers={"WWW-Authenticate": REALM})
            return await handler(request)

        return check


def _checkpw(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # over bcrypt's 72 bytes, or a hash it cannot read
        return False


def _credentials(header: str | None) -> tuple[bytes, bytes] | None:
    """(user, password) from a Basic Authorization header, or None."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    return (user, password) if sep else None
