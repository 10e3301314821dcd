"""A self-signed certificate for the catcher's STARTTLS, made at start (never kept: nothing of value is behind it).

Its names are the loopback ones (localhost, 127.0.0.1, ::1) plus the host it serves on, so a client that verifies
hostnames, as `shared.mail` does, can trust it by loading the certificate itself as its only CA (SMTP_CA_FILE).
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class CertificateFiles:
    certificate: Path
    key: Path


def _subject_names(hostnames: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for name in dict.fromkeys(hostnames):  # ordered, without repeats
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    return names


def write_self_signed_certificate(certificate: Path, key: Path, host: str = "127.0.0.1") -> CertificateFiles:
    """Write a fresh P-256 key (mode 0600) and a certificate for `host` and the loopback names, as PEM."""
    private_key = ec.generate_private_key(ec.SECP256R1())  # milliseconds, where RSA takes a noticeable moment
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clinicbot mail catcher")])
    now = datetime.now(UTC)
    hostnames = tuple(h for h in (*_LOOPBACK_NAMES, host) if h and h not in ("0.0.0.0", "::"))  # noqa: S104
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_subject_names(hostnames)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # What Python 3.13's VERIFY_X509_STRICT asks of a certificate that is its own CA.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(private_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(private_key.public_key()), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    key.parent.mkdir(parents=True, exist_ok=True)
    key.touch(mode=0o600)
    key.chmod(0o600)
    key.write_bytes(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))  # fmt: skip
    certificate.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    return CertificateFiles(certificate, key)


def build_server_context(files: CertificateFiles) -> ssl.SSLContext:
    """The context STARTTLS upgrades to; clients are not asked for certificates."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.certificate, files.key)
    return context
