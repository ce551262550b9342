"""Web config: bcrypt basic auth that remembers a verified password, and a loader that names key paths."""

from __future__ import annotations

import base64
from pathlib import Path

import bcrypt
import pytest

from slotail.errors import ConfigError
from slotail.outputs import webconfig
from slotail.outputs.webconfig import BasicAuth, load_web_config

HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()


def header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_a_verified_password_costs_one_bcrypt_and_a_wrong_one_costs_one_each_time(monkeypatch) -> None:
    """Repeated scrapes with the right password run bcrypt once; every wrong attempt runs it again."""
    calls: list[bytes] = []
    checkpw = webconfig._checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(password)
        return checkpw(password, hashed)

    monkeypatch.setattr(webconfig, "_checkpw", counting)
    auth = BasicAuth({"prom": HASH})
    assert all([await auth.allows(header("prom", "pw")) for _ in range(5)])
    assert len(calls) == 1
    assert not any([await auth.allows(header("prom", "nope")) for _ in range(3)])
    assert not await auth.allows(header("ghost", "pw"))  # unknown users cost a bcrypt too (timing)
    assert len(calls) == 5


@pytest.mark.parametrize(
    "value",
    [None, "", "Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode()],
)
async def test_a_missing_or_malformed_authorization_header_is_refused(value: str | None) -> None:
    assert not await BasicAuth({"prom": HASH}).allows(value)


async def test_a_password_over_bcrypts_72_bytes_is_refused_not_raised() -> None:
    assert not await BasicAuth({"prom": HASH}).allows(header("prom", "x" * 200))


def test_the_loader_reports_key_paths_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text(
        "basic_auth_users:\n  prom: plain\ntls_server_config:\n  cert_file: a\n  min_version: TLS10\n"
    )
    with pytest.raises(ConfigError) as error:
        load_web_config(path)
    text = str(error.value)
    assert "line 1: basic_auth_users: expected a bcrypt hash" in text
    assert "tls_server_config.key_file: required key is missing" in text
    assert "line 5: tls_server_config.min_version" in text
