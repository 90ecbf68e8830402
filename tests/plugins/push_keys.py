"""Key material and shared names for the push emulators: an APNs ``.p8`` key, a service account, TLS.

Everything is generated per test session with ``cryptography``; nothing is read from outside.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "CLIENT_EMAIL",
    "KEY_ID",
    "PRIVATE_KEY_ID",
    "PROJECT_ID",
    "TEAM_ID",
    "TOPIC",
    "PushKeys",
    "Scripted",
    "write_keys",
]

TEAM_ID = "TEAM123456"
KEY_ID = "KEY0000001"
TOPIC = "com.example.gwsagent"
PROJECT_ID = "gwsb-test"
CLIENT_EMAIL = "push@gwsb-test.iam.gserviceaccount.com"
PRIVATE_KEY_ID = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class PushKeys:
    """Key files for one test session: the APNs ``.p8`` key, a service account, a TLS pair."""

    apns_key_path: Path
    apns_public_key: ec.EllipticCurvePublicKey
    service_account_path: Path
    service_account_public_key: rsa.RSAPublicKey
    tls_cert_path: Path
    tls_key_path: Path


@dataclass(frozen=True)
class Scripted:
    """A forced answer: ``status``, JSON ``body`` and extra ``headers``."""

    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def write_keys(folder: Path) -> PushKeys:
    apns_key = ec.generate_private_key(ec.SECP256R1())
    apns_key_path = folder / f"AuthKey_{KEY_ID}.p8"
    apns_key_path.write_bytes(
        apns_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account_path = folder / "service-account.json"
    pem = sa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account_path.write_bytes(
        orjson.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT_ID,
                "private_key_id": PRIVATE_KEY_ID,
                "private_key": pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "1234567890",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    tls_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gwsb push emulator")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(tls_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(tls_key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls-cert.pem", folder / "tls-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        tls_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return PushKeys(
        apns_key_path=apns_key_path,
        apns_public_key=apns_key.public_key(),
        service_account_path=account_path,
        service_account_public_key=sa_key.public_key(),
        tls_cert_path=cert_path,
        tls_key_path=key_path,
    )
