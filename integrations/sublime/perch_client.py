"""A small client for the Perch local API, with no Sublime Text imports so it can be tested alone.

It finds the service and its token the way the `perch` CLI does (PERCH_PORT, PERCH_DATA_DIR, the
running service's service.json in Perch's data folder) and streams answers as Server-Sent Events.
Python 3.8 (Sublime Text 4's plugin host) and the standard library only.
"""

import json
import os
import sys
import urllib.error
import urllib.request


class PerchError(Exception):
    """Perch is not running, refused the request, or the answer failed."""

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status


def default_data_dir(env=None, platform=None, home=None):
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    home = os.path.expanduser("~") if home is None else home
    if platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "Perch")
    if platform.startswith("win"):
        return os.path.join(env.get("APPDATA") or os.path.join(home, "AppData", "Roaming"), "Perch")
    xdg = env.get("XDG_CONFIG_HOME")
    return os.path.join(xdg if xdg and os.path.isabs(xdg) else os.path.join(home, ".config"), "Perch")


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _read_json(path):
    text = _read(path)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def discover(service_url="", data_dir="", env=None):
    """Returns (base_url, token); the token is None when it cannot be read."""
    env = os.environ if env is None else env
    folder = data_dir or env.get("PERCH_DATA_DIR") or default_data_dir(env)
    token = (_read(os.path.join(folder, "token")) or "").strip() or None
    if service_url:
        return service_url.rstrip("/"), token
    if env.get("PERCH_PORT"):
        return "http://127.0.0.1:%s" % env["PERCH_PORT"], token
    running = _read_json(os.path.join(folder, "service.json"))
    if running and isinstance(running.get("port"), int):
        return "http://127.0.0.1:%d" % running["port"], token
    config = _read_json(os.path.join(folder, "config.json")) or {}
    port = (config.get("api") or {}).get("port")
    return "http://127.0.0.1:%d" % (port if isinstance(port, int) else 8080), token


def _error_message(body, status):
    try:
        return json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return "Perch answered %d." % status


def stream(base_url, token, path, body, on_text, is_cancelled=lambda: False, timeout=300):
    """POSTs to an answer route with streaming on and calls on_text for each piece.

    Returns the final answer (the `done` event's data). Raises PerchError. Stops early, without
    error, when is_cancelled() turns true (Perch then saves what it had as a partial answer).
    """
    payload = dict(body, stream=True)
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={
            "Authorization": "Bearer %s" % token,
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        },
    )
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        raise PerchError(_error_message(error.read().decode("utf-8", "replace"), error.code), error.code)
    except (urllib.error.URLError, OSError):
        raise PerchError("Perch is not running at %s. Start it with `npx perch serve` or open the Perch app." % base_url)
    with response:
        event, data = "message", []
        for raw in response:
            if is_cancelled():
                return None
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                message = json.loads("\n".join(data))
                if event == "delta":
                    on_text(message.get("text", ""))
                elif event == "done":
                    return message
                elif event == "error":
                    raise PerchError(message.get("error", {}).get("message", "The answer failed."), 502)
                event, data = "message", []
    raise PerchError("The answer stopped before it finished.", 502)
