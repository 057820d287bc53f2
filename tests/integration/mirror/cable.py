"""A loopback TCP relay the tests can cut, as when AWS becomes unreachable."""

from __future__ import annotations

import asyncio
import contextlib

CHUNK_BYTES = 65536


class Cable:
    """Relay one loopback port to another until cut; restore it on the same port."""

    def __init__(self, port: int, target_port: int) -> None:
        """Prepare a relay from port to target_port; start() opens it."""
        self.port = port
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Accept connections and relay them to the target."""
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )

    async def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for pipe in list(self._pipes):
            pipe.cancel()
        if self._pipes:
            await asyncio.wait(self._pipes)

    async def _relay(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Connect to the target and copy bytes both ways."""
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.ensure_future(self._copy(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _copy(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        """Copy one direction until either side closes."""
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while chunk := await source.read(CHUNK_BYTES):
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()
