"""A small client for the Perch local API, with no Sublime Text imports so it can be tested alone.

It finds the service and its token the way the `perch` CLI does (PERCH_PORT, PERCH_DATA_DIR, the
running service's service.json in Perch's data folder) and streams answers as Server-Sent Events.
Python 3.8 (Sublime Text 4's plugin host) and the standard library only.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
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


def _is_alive(pid):
    if sys.platform.startswith("win"):
        # os.kill on Windows terminates the process whatever the signal: trust the record.
        return True
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


def discover(service_url="", data_dir="", env=None):
    """Returns (base_url, token).

    base_url is None when no running Perch is recorded (no port is tried then: whatever listens
    on the usual one may not be Perch); the token is None when it cannot be read.
    """
    env = os.environ if env is None else env
    folder = data_dir or env.get("PERCH_DATA_DIR") or default_data_dir(env)
    token = (_read(os.path.join(folder, "token")) or "").strip() or None
    if service_url:
        return service_url.rstrip("/"), token
    if env.get("PERCH_PORT"):
        return "http://127.0.0.1:%s" % env["PERCH_PORT"], token
    running = _read_json(os.path.join(folder, "service.json"))
    if running and isinstance(running.get("port"), int) and isinstance(running.get("pid"), int) and _is_alive(running["pid"]):
        return "http://127.0.0.1:%d" % running["port"], token
    return None, token


NOT_RUNNING = "Perch is not running%s. Start it with: npx perch serve (or open the Perch app)."


def prove(base_url, token, timeout=10):
    """Makes the service prove it holds the token before the token is sent (GET /api/v1/auth/proof).

    A program squatting Perch's port while Perch is stopped cannot: it never sees the token.
    """
    nonce = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    try:
        with urllib.request.urlopen(base_url + "/api/v1/auth/proof?nonce=" + nonce, timeout=timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        raise PerchError(NOT_RUNNING % (" at " + base_url))
    proof, port = body.get("proof"), body.get("port")
    if not isinstance(proof, str) or not isinstance(port, int):
        raise PerchError("Something other than Perch answers at %s; the token was not sent." % base_url)
    parsed = urllib.parse.urlsplit(base_url)
    own_port = parsed.port or (443 if parsed.scheme == "https" else 80)
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    message = ("perch-proof:v1:%d:%s" % (port, nonce)).encode("utf-8")
    expected = base64.urlsafe_b64encode(hmac.new(token.encode("utf-8"), message, hashlib.sha256).digest()).rstrip(b"=")
    if (loopback and port != own_port) or not hmac.compare_digest(expected, proof.encode("ascii", "replace")):
        raise PerchError(
            "The service at %s could not prove it holds your Perch token, so the token was not sent. "
            "If Perch runs there, the token changed: check the token with: npx perch token." % base_url,
            401,
        )


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
    if not base_url:
        raise PerchError(NOT_RUNNING % "")
    prove(base_url, token)
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
        raise PerchError(NOT_RUNNING % (" at " + base_url))
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
