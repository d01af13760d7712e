"""https through the guarded client: it connects to the checked IP, yet TLS verifies the
certificate against the host name (sent as SNI). A real TLS server on 127.0.0.1 holds a
certificate for `images.test` only (no IP in it), so success proves the name was checked."""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from plait.net import GuardedClient, NetError
from tests.fakes.web import LOOPBACK_ONLY, PNG, FakeResolver


def _certificate(tmp: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "images.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("images.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp / "cert.pem").write_bytes(pem)
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tmp / "cert.pem", tmp / "key.pem", pem


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers.get("host"))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client refusing the certificate for other.test is expected


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, bytes, list[str]]]:
    cert, key, pem = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.hosts = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], pem, httpd.hosts  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


async def test_tls_verifies_the_host_name_not_the_ip(
    tls_server: tuple[int, bytes, list[str]],
) -> None:
    port, pem, hosts = tls_server
    trust = ssl.create_default_context(cadata=pem.decode())
    resolver = FakeResolver({"images.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
    async with GuardedClient(LOOPBACK_ONLY, resolver=resolver, verify=trust) as client:
        response = await client.get(f"https://images.test:{port}/a.png")
        assert response.content == PNG
        assert hosts == [f"images.test:{port}"]
        # the same IP under a name the certificate does not cover fails verification
        with pytest.raises(NetError, match=r"https://other\.test:\d+/"):
            await client.get(f"https://other.test:{port}/a.png")
        assert len(hosts) == 1
