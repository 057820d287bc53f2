"""Talk to a running Home Assistant the way the UI does: REST and WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

import aiohttp

HTTP_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.1


class HassApiError(RuntimeError):
    """Raised when Home Assistant answers a request with an error."""


class HassClient:
    """A blocking client for one Home Assistant instance and one access token."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        """Point at base_url (http://127.0.0.1:PORT), optionally with a token."""
        self.base_url = base_url.rstrip("/")
        self.token = token

    # REST

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        """Send one request and return the decoded JSON answer (or None)."""
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            raise HassApiError(f"{method} {path}: HTTP {err.code} {detail}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw.decode(errors="replace")

    def get(self, path: str) -> Any:
        """GET a JSON resource."""
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        """POST JSON and return the JSON answer."""
        return self.request("POST", path, body if body is not None else {})

    def alive(self) -> bool:
        """Return True when the HTTP server answers at all (even with a 401)."""
        try:
            self.request("GET", "/auth/providers", auth=False)
        except HassApiError:
            return True
        except OSError:
            return False
        return True

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """Return an entity's state object, or None when it does not exist."""
        try:
            result: dict[str, Any] = self.get(f"/api/states/{entity_id}")
        except HassApiError as err:
            if "HTTP 404" in str(err):
                return None
            raise
        return result

    def states(self) -> list[dict[str, Any]]:
        """Return every state."""
        result: list[dict[str, Any]] = self.get("/api/states")
        return result

    def call_service(
        self, domain: str, service: str, data: dict[str, Any] | None = None
    ) -> Any:
        """Call an action and return the changed states."""
        return self.post(f"/api/services/{domain}/{service}", data or {})

    def wait_for(
        self,
        predicate: Callable[[], Any],
        *,
        timeout_s: float = 20.0,
        what: str = "condition",
    ) -> Any:
        """Poll predicate until it returns something truthy; raise on timeout."""
        deadline = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = predicate()
            except (OSError, HassApiError) as err:
                last = err
            else:
                if last:
                    return last
            time.sleep(POLL_INTERVAL_S)
        raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}: {last}")

    def wait_for_state(
        self, entity_id: str, expected: str | Callable[[str], bool], **kwargs: Any
    ) -> dict[str, Any]:
        """Wait until an entity's state equals expected (or satisfies it)."""

        def check() -> dict[str, Any] | None:
            current = self.state(entity_id)
            if current is None:
                return None
            value = current["state"]
            ok = expected(value) if callable(expected) else value == expected
            return current if ok else None

        kwargs.setdefault("what", f"{entity_id} == {expected}")
        result: dict[str, Any] = self.wait_for(check, **kwargs)
        return result

    # Onboarding: the same requests the first-run screens send

    def onboard(self, name: str, username: str, password: str) -> str:
        """Create the owner, finish onboarding, and return a long-lived token."""
        client_id = self.base_url + "/"
        created = self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": name,
                "username": username,
                "password": password,
                "language": "en",
            },
            auth=False,
        )
        tokens = self.request(
            "POST",
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": created["auth_code"],
                "client_id": client_id,
            },
            auth=False,
        )
        self.token = tokens["access_token"]
        done = {
            step["step"]
            for step in self.request("GET", "/api/onboarding", auth=False)
            if step["done"]
        }
        if "core_config" not in done:
            self.post("/api/onboarding/core_config")
        if "analytics" not in done:
            self.post("/api/onboarding/analytics")
        if "integration" not in done:
            self.post(
                "/api/onboarding/integration",
                {
                    "client_id": client_id,
                    "redirect_uri": f"{client_id}?auth_callback=1",
                },
            )
        long_lived: str = self.ws(
            {
                "type": "auth/long_lived_access_token",
                "client_name": "IoT Porter devtools",
                "lifespan": 3650,
            }
        )
        self.token = long_lived
        return long_lived

    # Config flows, as the UI drives them

    def start_flow(self, handler: str) -> dict[str, Any]:
        """Start a user config flow and return its first step."""
        result: dict[str, Any] = self.post(
            "/api/config/config_entries/flow",
            {"handler": handler, "show_advanced_options": False},
        )
        return result

    def flow_step(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Submit one step of a config flow."""
        result: dict[str, Any] = self.post(
            f"/api/config/config_entries/flow/{flow_id}", data
        )
        return result

    def flows_in_progress(self) -> list[dict[str, Any]]:
        """Return config flows waiting for the user (discovered devices among them)."""
        result: list[dict[str, Any]] = self.ws({"type": "config_entries/flow/progress"})
        return result

    def config_entries(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Return the config entries, optionally of one domain."""
        path = "/api/config/config_entries/entry"
        if domain:
            path += f"?domain={domain}"
        result: list[dict[str, Any]] = self.get(path)
        return result

    def setup_mqtt(self, host: str, port: int) -> dict[str, Any]:
        """Add the MQTT integration for a broker, through its config flow."""
        step = self.start_flow("mqtt")
        while step["type"] == "form":
            data: dict[str, Any] = {}
            if step["step_id"] == "broker":
                data = {"broker": host, "port": port}
                # Newer releases group the rest in collapsed sections; the UI
                # sends them with their defaults.
                for item in step.get("data_schema") or []:
                    if item.get("type") == "expandable" and item["name"] not in data:
                        data[item["name"]] = _section_defaults(item)
            step = self.flow_step(step["flow_id"], data)
        if step["type"] != "create_entry":
            raise HassApiError(f"MQTT setup ended with {step}")
        return step

    # WebSocket

    def ws(self, command: dict[str, Any]) -> Any:
        """Send one WebSocket command and return its result."""
        return _run(self._ws_commands([command]))[0]

    async def _ws_commands(self, commands: list[dict[str, Any]]) -> list[Any]:
        """Open a socket, authenticate, run commands in order, close."""
        results = []
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(self.base_url + "/api/websocket") as sock,
        ):
            await authenticate(sock, self.token or "")
            for number, command in enumerate(commands, start=1):
                await sock.send_json({"id": number, **command})
                while True:
                    reply = await sock.receive_json(timeout=HTTP_TIMEOUT_S)
                    if reply.get("id") == number and reply["type"] == "result":
                        break
                if not reply["success"]:
                    raise HassApiError(f"{command['type']}: {reply['error']}")
                results.append(reply["result"])
        return results


def _section_defaults(section: dict[str, Any]) -> dict[str, Any]:
    """Return what the UI sends for an untouched section: its fields' defaults."""
    values: dict[str, Any] = {}
    for field in section.get("schema", []):
        selector = field.get("selector") or {}
        suggested = (field.get("description") or {}).get("suggested_value")
        if "default" in field:
            values[field["name"]] = field["default"]
        elif suggested is not None:
            values[field["name"]] = suggested
        elif "boolean" in selector:
            values[field["name"]] = False
        elif "select" in selector and field.get("required"):
            first = selector["select"]["options"][0]
            values[field["name"]] = first["value"] if isinstance(first, dict) else first
    return values


async def authenticate(sock: aiohttp.ClientWebSocketResponse, token: str) -> None:
    """Answer Home Assistant's WebSocket auth handshake."""
    hello = await sock.receive_json(timeout=HTTP_TIMEOUT_S)
    if hello["type"] != "auth_required":
        raise HassApiError(f"unexpected WebSocket greeting {hello}")
    await sock.send_json({"type": "auth", "access_token": token})
    answer = await sock.receive_json(timeout=HTTP_TIMEOUT_S)
    if answer["type"] != "auth_ok":
        raise HassApiError(f"WebSocket auth failed: {answer}")


def _run(coro: Any) -> Any:
    """Run a coroutine on a private loop without touching the current one."""
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(coro)
