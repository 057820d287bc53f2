"""Own the firmware's single log function, which can be silenced."""

_state = {"enabled": True, "sink": print}


def log(*parts):
    """Write one log line unless logging is switched off."""
    if _state["enabled"]:
        _state["sink"](" ".join([str(part) for part in parts]))


def configure(enabled=True, sink=None):
    """Switch logging on or off and optionally redirect it."""
    _state["enabled"] = bool(enabled)
    if sink is not None:
        _state["sink"] = sink
