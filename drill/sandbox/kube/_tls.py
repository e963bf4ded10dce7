"""TLS for the emulated clusters: each a certificate authority of its own and a serving certificate.

kubectl (client-go) sends bearer tokens only to servers it reaches over TLS, so an API server
that authenticates must speak HTTPS, as kind's and minikube's do with a CA of their own. Every
emulated cluster makes its own CA and a certificate for ``127.0.0.1`` (and ``localhost``) under
it (EC P-256: a millisecond's work), as two real clusters never share a CA: what one publishes
as its CA bundle (``kube-root-ca.crt``) does not verify the other. A started cluster registers
its CA under its URL, and the kubeconfig carries each cluster's CA
(``certificate-authority-data``) so clients verify the server as they would a real one. The
keys live in memory (and for an instant in a private temporary file, which is how Python's
``ssl`` loads a key) and die with the process.

This module must not serve anything: it only makes the credentials and the server context.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

_VALID_FOR = timedelta(days=365)
_lock = threading.Lock()
_authorities: dict[str, bytes] = {}  # server URL -> the PEM CA its certificate is under


@dataclass(frozen=True)
class Credentials:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def cluster_credentials() -> tuple[Credentials, ssl.SSLContext]:
    """A new cluster's own CA and serving certificate, and a context that serves with them."""
    made = _make()
    return made, _context(made)


def register_authority(url: str, ca_pem: bytes) -> None:
    """The server at ``url`` serves under ``ca_pem``: kubeconfigs written for it carry it."""
    with _lock:
        _authorities[url] = ca_pem


def forget_authority(url: str) -> None:
    with _lock:
        _authorities.pop(url, None)


def authority_for(url: str) -> bytes | None:
    """The CA the cluster serving at ``url`` is under, if one of this process's serves there."""
    with _lock:
        return _authorities.get(url)


def _make() -> Credentials:
    # Imported here: only a started cluster needs it, and it takes a moment to load.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "drill-sandbox-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "drill-sandbox-apiserver")])
    serving = (
        x509.CertificateBuilder()
        .subject_name(server_name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return Credentials(
        ca.public_bytes(serialization.Encoding.PEM),
        serving.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _context(made: Credentials) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    descriptor, path = tempfile.mkstemp(prefix="drill-sandbox-", suffix=".pem")
    try:
        with os.fdopen(descriptor, "wb") as chain:  # mkstemp makes it readable by us only
            chain.write(made.key_pem + made.cert_pem + made.ca_pem)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)
    return context
