"""Check the certificate, private key and CA pasted for the AWS IoT mirror."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

# Option keys of the three PEM fields; the flow shows each error on its field.
CONF_AWS_CERTIFICATE: Final = "aws_certificate"
CONF_AWS_PRIVATE_KEY: Final = "aws_private_key"
CONF_AWS_CA: Final = "aws_ca"

ERROR_INVALID_CERTIFICATE: Final = "invalid_certificate"
ERROR_INVALID_PRIVATE_KEY: Final = "invalid_private_key"
ERROR_KEY_MISMATCH: Final = "key_mismatch"
ERROR_CERTIFICATE_EXPIRED: Final = "certificate_expired"
ERROR_INVALID_CA: Final = "invalid_ca"


@dataclass(frozen=True, slots=True)
class PemCheck:
    """The outcome of checking the pasted PEM texts."""

    errors: dict[str, str] = field(default_factory=dict)
    expires: datetime | None = None
    subject: str | None = None

    @property
    def ok(self) -> bool:
        """Return whether every PEM text is usable."""
        return not self.errors


def load_certificate(pem: str) -> x509.Certificate:
    """Return the first certificate of a PEM text; raise ValueError if none."""
    return x509.load_pem_x509_certificate(pem.strip().encode())


def certificate_expiry(pem: str) -> datetime | None:
    """Return when a PEM certificate stops being valid, or None if it does not parse."""
    try:
        return load_certificate(pem).not_valid_after_utc
    except ValueError:
        return None


def _public_bytes(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> bytes:
    """Return a public key in a form two keys can be compared by."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _check_ca(pem: str) -> bool:
    """Return whether a PEM text holds at least one certificate."""
    try:
        return bool(x509.load_pem_x509_certificates(pem.strip().encode()))
    except ValueError:
        return False


def check_pems(
    certificate: str, private_key: str, ca: str, now: datetime | None = None
) -> PemCheck:
    """Check the thing certificate, its private key and the CA, each on its own."""
    now = now or datetime.now(UTC)
    errors: dict[str, str] = {}
    if not _check_ca(ca):
        errors[CONF_AWS_CA] = ERROR_INVALID_CA

    cert: x509.Certificate | None = None
    try:
        cert = load_certificate(certificate)
    except ValueError:
        errors[CONF_AWS_CERTIFICATE] = ERROR_INVALID_CERTIFICATE

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    try:
        loaded = serialization.load_pem_private_key(
            private_key.strip().encode(), password=None
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # TypeError means the key is encrypted: the mirror has no passphrase.
        errors[CONF_AWS_PRIVATE_KEY] = ERROR_INVALID_PRIVATE_KEY
    else:
        # AWS IoT signs with RSA or ECDSA keys only.
        if isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            key = loaded
        else:
            errors[CONF_AWS_PRIVATE_KEY] = ERROR_INVALID_PRIVATE_KEY

    if cert is None:
        return PemCheck(errors)
    expires = cert.not_valid_after_utc
    subject = cert.subject.rfc4514_string()
    public = cert.public_key()
    if key is not None and (
        not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
        or _public_bytes(public) != _public_bytes(key.public_key())
    ):
        errors[CONF_AWS_PRIVATE_KEY] = ERROR_KEY_MISMATCH
    if not cert.not_valid_before_utc <= now <= expires:
        errors[CONF_AWS_CERTIFICATE] = ERROR_CERTIFICATE_EXPIRED
    return PemCheck(errors, expires, subject)
