"""Who and what the served app lets in: the guards around the Gradio app.

* `check_exposure` refuses to serve beyond loopback without a login (RAG_AUTH), unless
  RAG_ALLOW_PUBLIC says a proxy in front checks logins; `is_loopback` says which hosts
  count as this machine (uploads are offered only there, or with a login).
* `login` / `LoginGuard`: RAG_AUTH's check, throttled against password guessing.
* `Admission`: at most RAG_CONCURRENCY questions answered at once, RAG_QUEUE_SIZE waiting.
* `private_paths`: what no file route may serve (the index, the sources, secrets).
* `UploadFilter`: Gradio's upload route takes only the article types `rag index` reads
  (`UPLOAD_SUFFIXES`), and its screen-recorder route is closed.

Left out: the layout and wiring (webapp.py), and what the chat shows (ui.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from .articles import SUFFIXES
from .settings import Settings


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond this machine without a login, unless explicitly allowed."""
    from .errors import ConfigError

    if not is_loopback(settings.server_name) and not settings.auth and not settings.allow_public:
        raise ConfigError(
            f"RAG_SERVER_NAME={settings.server_name} would let anyone on the network use the app: "
            "set RAG_AUTH=user:password, or RAG_ALLOW_PUBLIC=1 when a proxy in front of it checks logins"
        )


class LoginGuard:
    """RAG_AUTH's login check for Gradio (`launch(auth=guard.verify)`), throttled: every wrong login
    is answered only after `failure_delay_s`, and after `max_failures` wrong logins within
    `window_s` every login is refused, the right one too, until the oldest of them is
    `window_s` old. So a password is guessed at most `max_failures` times a window however
    many requests arrive at once; the price is that the user waits out an attack too."""

    def __init__(self, user: str, password: str, max_failures: int = 5, window_s: float = 60.0,
                 failure_delay_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._user, self._password = user.encode(), password.encode()
        self.max_failures, self.window_s, self.failure_delay_s = max_failures, window_s, failure_delay_s
        self._clock = clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def locked(self) -> bool:
        with self._lock:
            now = self._clock()
            while self._failures and now - self._failures[0] >= self.window_s:
                self._failures.popleft()
            return len(self._failures) >= self.max_failures

    def check(self, user: str, password: str) -> bool:
        """Whether this login is let in; a wrong one counts against the window."""
        if self.locked():
            return False
        right_user = hmac.compare_digest(user.encode(), self._user)
        right = hmac.compare_digest(password.encode(), self._password) and right_user
        if not right:
            with self._lock:
                self._failures.append(self._clock())
        return right

    async def verify(self, user: str, password: str) -> bool:
        """The check Gradio calls (`launch(auth=guard.verify)`). It must be an `async def`:
        Gradio awaits only what `inspect.iscoroutinefunction` recognises (an object with an
        async `__call__` would be called, and its coroutine taken as a yes). Awaited on the
        event loop, the delay holds no thread."""
        right = self.check(user, password)
        if not right:
            await asyncio.sleep(self.failure_delay_s)
        return right


def login(settings: Settings) -> Callable[[str, str], Awaitable[bool]] | None:
    """Gradio's `auth` for RAG_AUTH: a throttled check (see `LoginGuard`), or None without a login."""
    if not settings.auth:
        return None
    user, password = settings.auth.split(":", 1)
    return LoginGuard(user, password).verify


UPLOAD_SUFFIXES = tuple(SUFFIXES)
"""What the app's upload control takes (what `rag index` reads); Gradio's upload route refuses anything else."""


def private_paths(settings: Settings) -> list[str]:
    """What the app must never serve, even if a file route asks for it."""
    paths = [settings.index_dir, *settings.sources, settings.upload_dir, Path(".env"), Path(".git")]
    return [str(Path(p).resolve()) for p in paths]


class Admission:
    """At most `running` questions answered at once and `waiting` more waiting for a turn
    (RAG_CONCURRENCY, RAG_QUEUE_SIZE); a question beyond that is turned away at once. The
    app keeps this queue itself, rather than Gradio's, so that a reader who is turned away
    gets the app's own message in the question's language, not Gradio's English toast."""

    def __init__(self, running: int, waiting: int) -> None:
        self.capacity = running + waiting
        self._turns = threading.Semaphore(running)
        self._lock = threading.Lock()
        self._admitted = 0

    @contextlib.contextmanager
    def enter(self) -> Iterator[bool]:
        """Yields False at once when the queue is full; else waits for a turn and yields True."""
        with self._lock:
            admitted = self._admitted < self.capacity
            self._admitted += admitted
        if not admitted:
            yield False
            return
        try:
            with self._turns:
                yield True
        finally:
            with self._lock:
                self._admitted -= 1


class UploadFilter:
    """ASGI middleware around Gradio's routes that take files: `/upload` keeps only the file
    types the UI offers (Gradio stores any file it is sent, and serves it back), and
    `/process_recording` (Gradio's screen recorder, which this app does not use) is closed.
    Sizes are Gradio's own check (`max_file_size`, from RAG_MAX_FILE_MB)."""

    def __init__(self, app: Any, suffixes: tuple[str, ...]) -> None:
        self.app, self.suffixes = app, suffixes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "").rstrip("/") if scope["type"] == "http" else ""
        if path.endswith("/process_recording"):
            return await _plain(send, 404, "Not Found")
        if not path.endswith("/upload") or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        held: list[dict] = []

        async def hold(message: dict) -> None:
            held.append(message)

        await self.app(scope, receive, hold)  # Gradio has stored the files (and run its background moves)
        refused = self._refused(held)
        if refused is None:
            for message in held:
                await send(message)
            return
        blocks = scope["app"].get_blocks() if hasattr(scope.get("app"), "get_blocks") else None
        for stored in refused:
            if blocks is not None:
                blocks.upload_file_set.discard(stored)
            with contextlib.suppress(OSError):
                os.unlink(stored)
        allowed = ", ".join(self.suffixes)
        await _plain(send, 415, f"Only {allowed} files can be uploaded.")

    def _refused(self, held: list[dict]) -> list[str] | None:
        """Every stored path, when one of them has a type the UI does not offer; else None."""
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        if start is None or start["status"] != 200:
            return None
        try:
            stored = json.loads(b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body"))
        except ValueError:
            return None
        if not isinstance(stored, list):
            return None
        paths = [p for p in stored if isinstance(p, str)]
        return paths if any(not p.lower().endswith(self.suffixes) for p in paths) else None


async def _plain(send: Any, status: int, message: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": message.encode()})
