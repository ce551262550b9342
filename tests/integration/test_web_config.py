"""`slotail run --web-config`: every endpoint over TLS behind basic auth (issue 6, acceptance 5)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.sidecar import LogWriter, Sidecar, Truth, config_text, free_port

pytestmark = pytest.mark.integration
USER, PASSWORD = "prometheus", "s3cret-scrape"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "slotail test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def secured(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(config, web config, certificate): TLS with a self-signed certificate and one bcrypt user."""
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "slotail.yaml"
    config.write_text(config_text(logs))
    cert, _ = self_signed(tmp_path)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode().replace("$2b$", "$2y$", 1)
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        f"basic_auth_users:\n  {USER}: '{hashed}'\n"
    )
    return config, web, cert


def test_metrics_are_scraped_over_tls_with_basic_auth_and_refused_without(secured, tmp_path):
    """HTTPS with the user: /metrics counts every line; wrong or no credentials: 401; plain HTTP fails."""
    config, web, cert = secured
    truth = Truth()
    writer = LogWriter(tmp_path / "logs" / "api.log")
    sidecar = Sidecar(tmp_path, config, args=("--web-config", str(web)))
    sidecar.scheme, sidecar.ssl = "https", ssl.create_default_context(cafile=str(cert))
    sidecar.headers = basic(USER, PASSWORD)
    try:
        writer.write(truth.batch(25))
        sidecar.start().converge(truth, hold=0)  # every scrape over TLS with auth

        for path in ("/metrics", "/healthz", "/readyz", "/api/v1/slos", "/"):
            for headers in (
                {},
                basic(USER, "wrong"),
                basic("nobody", PASSWORD),
                {"Authorization": "Bearer x"},
            ):
                sidecar.headers = headers
                status, _ = sidecar.get(path)
                assert status == 401, (path, headers)
        sidecar.headers = {}
        request = urllib.request.Request(f"https://127.0.0.1:{sidecar.port}/metrics")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5, context=sidecar.ssl)
        assert refused.value.headers["WWW-Authenticate"] == 'Basic realm="slotail"'
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # plain HTTP to the TLS port
            urllib.request.urlopen(f"http://127.0.0.1:{sidecar.port}/metrics", timeout=5).read()
        assert sidecar.alive(), sidecar.diagnostics()
    finally:
        writer.close()
        sidecar.close()


def test_a_bad_web_config_stops_start_up_with_its_key_path(secured, tmp_path):
    """A web config naming a missing key file, or a password that is not a bcrypt hash: exit 2, key path."""
    config, web, _ = secured
    sidecar = Sidecar(tmp_path, config, args=("--web-config", str(web)))
    cases = {
        "tls_server_config.cert_file": "tls_server_config:\n  cert_file: server.crt\n  key_file: nope.key\n",
        "basic_auth_users": "basic_auth_users:\n  prometheus: plain-text\n",
        "tls_server_config.certfile": "tls_server_config:\n  certfile: a\n  key_file: b\n",
    }
    for where, text in cases.items():
        web.write_text(text)
        proc = subprocess.run(sidecar.command(free_port()), capture_output=True, timeout=20)
        stderr = proc.stderr.decode()
        assert proc.returncode == 2, stderr
        assert where in stderr and "Traceback" not in stderr, stderr


def test_over_tls_a_connection_that_does_not_handshake_or_ask_in_time_is_closed_and_logs_stay_json(
    secured, tmp_path
):
    """--http-header-timeout holds over TLS: a connection that never starts its handshake, and one that
    completes it but sends no request, are closed after it; plain HTTP to the TLS port leaves the daemon's
    stderr JSON lines; scrapes go on."""
    config, web, cert = secured
    sidecar = Sidecar(tmp_path, config, args=("--web-config", str(web), "--http-header-timeout", "1s"))
    sidecar.scheme, sidecar.ssl = "https", ssl.create_default_context(cafile=str(cert))
    sidecar.headers = basic(USER, PASSWORD)
    try:
        sidecar.start()
        no_hello = socket.create_connection(("127.0.0.1", sidecar.port), timeout=10)
        silent = sidecar.ssl.wrap_socket(
            socket.create_connection(("127.0.0.1", sidecar.port), timeout=10), server_hostname="127.0.0.1"
        )
        started = time.monotonic()
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # plain HTTP to the TLS port
            urllib.request.urlopen(f"http://127.0.0.1:{sidecar.port}/metrics", timeout=5).read()
        for sock in (no_hello, silent):
            assert sock.recv(4096) == b""  # closed by the server (blocks up to the socket's 10 s timeout)
            assert time.monotonic() - started < 8
        assert sidecar.get("/metrics")[0] == 200
        assert sidecar.stop() == 0
        for line in sidecar.stderr_path.read_text().splitlines():
            json.loads(line)
    finally:
        sidecar.close()
