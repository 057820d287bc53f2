"""Compute the CRC-32 that guards sleep memory and the nvm sequence record."""

try:
    from binascii import crc32 as _native_crc32
except ImportError:  # pragma: no cover - every supported VM ships binascii.crc32
    _native_crc32 = None

_POLY = 0xEDB88320
_MASK = 0xFFFFFFFF


def crc32_pure(data, crc=0):
    """Return the CRC-32 (IEEE) of data, continuing from crc, without binascii."""
    crc ^= _MASK
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
    return crc ^ _MASK


def crc32(data, crc=0):
    """Return the CRC-32 (IEEE) of data, continuing from crc."""
    if _native_crc32 is not None:
        return _native_crc32(data, crc) & _MASK
    return crc32_pure(data, crc)
