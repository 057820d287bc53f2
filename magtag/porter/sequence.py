"""Reserve door-event sequence numbers in blocks recorded in flash (nvm).

A sequence number is only handed out after the end of its block has been written
to nvm, so after a power loss the board resumes at the next unreserved block and
never reuses a number. Flash is written once per block, not once per event.
"""

import struct

from .checksum import crc32

NVM_MAGIC = 0x50545351  # "PTSQ"
NVM_FORMAT = "<III"  # magic, gen, reserved_end
NVM_RECORD_BYTES = 16  # the three fields plus a CRC-32
BLOCK_EVENTS = 32
MAX_SEQ = 0x7FFFFFFF


def read_record(nvm):
    """Return (gen, reserved_end) from nvm, or None when blank or corrupt."""
    if len(nvm) < NVM_RECORD_BYTES:
        return None
    raw = bytes(nvm[0:NVM_RECORD_BYTES])
    magic, gen, reserved_end = struct.unpack_from(NVM_FORMAT, raw, 0)
    (stored_crc,) = struct.unpack_from("<I", raw, 12)
    if magic != NVM_MAGIC or stored_crc != crc32(raw[0:12]):
        return None
    if gen > MAX_SEQ or reserved_end > MAX_SEQ + 1:
        return None
    return gen, reserved_end


def encode_record(gen, reserved_end):
    """Return the nvm bytes that record gen and the end of the reserved block."""
    body = struct.pack(NVM_FORMAT, NVM_MAGIC, gen, reserved_end)
    return body + struct.pack("<I", crc32(body))


def write_record(nvm, gen, reserved_end):
    """Write the record with one slice assignment, skipping identical content."""
    data = encode_record(gen, reserved_end)
    if bytes(nvm[0:NVM_RECORD_BYTES]) != data:
        # One assignment: every nvm write rewrites the whole flash page.
        nvm[0:NVM_RECORD_BYTES] = data


def new_gen(random_u31):
    """Return a fresh generation number from the board's random source."""
    return random_u31() & MAX_SEQ


def recover(nvm, random_u31):
    """Start a new block after the last reserved one; return (gen, next_seq, end).

    Called when sleep memory cannot be trusted (power-on, corruption). A blank or
    corrupt nvm gets a new random generation starting at sequence 0.
    """
    record = read_record(nvm)
    if record is None:
        gen, start = new_gen(random_u31), 0
    else:
        gen, start = record
    if start + BLOCK_EVENTS > MAX_SEQ + 1:
        gen, start = new_gen(random_u31), 0
    end = start + BLOCK_EVENTS
    write_record(nvm, gen, end)
    return gen, start, end


def extend(nvm, gen, block_end, random_u31):
    """Reserve the block after block_end; return (gen, next_seq, new_end)."""
    if block_end + BLOCK_EVENTS > MAX_SEQ + 1:
        gen, block_end = new_gen(random_u31), 0
    end = block_end + BLOCK_EVENTS
    write_record(nvm, gen, end)
    return gen, block_end, end
