"""A local Label Studio server for the project: installed in its own virtualenv, bound to
127.0.0.1, data in the git-ignored ``.labelstudio/`` folder, offline.

The server (``label-studio`` on PyPI) pins many packages of its own (Django and more), so it
lives in ``<project>/.venv-studio`` rather than beside Khabar. The admin user and API token
come from the environment and are handed to the server through its environment (never its
command line, never a file of ours):

* ``LABEL_STUDIO_USERNAME`` (an e-mail) and ``LABEL_STUDIO_PASSWORD``: the admin user;
* the server keeps Label Studio's own token settings: since 1.17 a new organization has
  personal access tokens (JWT refresh tokens) and no legacy tokens. Clients send a personal
  access token, made in the web page (Account & Settings -> Personal Access Token) or with
  :func:`khabar.studio.tokens.create_personal_access_token`. Only with ``legacy_token`` (``khabar
  studio serve --legacy-token``, for clients that cannot use personal access tokens) is the
  organization created with legacy tokens on and the admin's legacy token set to
  ``LABEL_STUDIO_API_KEY`` (at least 6 characters), when the data folder is first created.

Calls home are switched off: the PyPI version check, analytics and Sentry.

Label Studio refuses ML backends and webhooks on local addresses (its SSRF protection:
``ML_BLOCK_LOCAL_IP``, ``SSRF_PROTECTION_ENABLED``). Khabar's ML backend (``khabar studio backend``)
runs on 127.0.0.1, so a server that is to use it is started with ``allow_local_ml`` (``khabar
studio serve --allow-local-ml``), which lifts both: its users (the admin and invited annotators)
can then also point webhooks and URL imports at this machine's addresses.

Public API: :func:`install`, :func:`serve` (install, start, run until Ctrl-C), :class:`StudioServer`
(a server process: start, wait until ready, stop), :func:`label_studio_bin`, :func:`free_port`,
:func:`server_env`, :data:`LABEL_STUDIO_VERSION`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from khabar.core.errors import StudioError
from khabar.core.project import Project
from khabar.studio.process import alive as _alive, child_setup as _child_setup, copy_redacted as _copy_redacted, \
    lock_info as _lock_info, make_private as _private

__all__ = ["LABEL_STUDIO_VERSION", "StudioServer", "install", "serve", "label_studio_bin", "free_port", "server_env", "StudioError"]

LABEL_STUDIO_VERSION = "1.23.2"
"""The Label Studio release Khabar is tested with."""


def label_studio_bin(project: Project) -> Path:
    """The ``label-studio`` executable: ``$KHABAR_LABEL_STUDIO`` or ``.venv-studio/bin/label-studio``."""
    env = os.environ.get("KHABAR_LABEL_STUDIO")
    return Path(env) if env else project.studio_venv / "bin" / "label-studio"


def _installed_version(exe: Path) -> str | None:
    """The label-studio version installed beside ``exe`` (asked of its Python), or None."""
    py = exe.parent / "python"
    if not py.exists():
        return None
    out = subprocess.run([str(py), "-c", "import label_studio; print(label_studio.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def install(project: Project, *, echo=print) -> Path:
    """Install label-studio ``LABEL_STUDIO_VERSION`` into ``.venv-studio`` unless it is there.

    Returns:
        The path of the ``label-studio`` executable.

    Raises:
        StudioError: pip failed (its last lines are in the message).
    """
    exe = label_studio_bin(project)
    if exe.exists() and _installed_version(exe) == LABEL_STUDIO_VERSION:
        return exe
    if os.environ.get("KHABAR_LABEL_STUDIO"):
        raise StudioError(f"$KHABAR_LABEL_STUDIO={exe} is not label-studio {LABEL_STUDIO_VERSION}")
    venv = project.studio_venv
    echo(f"installing label-studio {LABEL_STUDIO_VERSION} into {venv} (once; about a minute)…")
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              f"label-studio=={LABEL_STUDIO_VERSION}"]]
    started = time.monotonic()
    for what, cmd in zip(("making the virtualenv", "installing label-studio and its dependencies"), steps):
        code, output = _run_with_heartbeat(cmd, what, started, echo)
        if code != 0:
            tail = [ln for ln in output.splitlines() if not ln.startswith("WARNING: Location")][-8:]
            raise StudioError(f"installing label-studio failed: {' '.join(cmd[-2:])} exited {code}:\n" + "\n".join(tail))
    if _installed_version(exe) != LABEL_STUDIO_VERSION:
        raise StudioError(f"{exe} is missing or not label-studio {LABEL_STUDIO_VERSION} after installing")
    echo(f"installed label-studio {LABEL_STUDIO_VERSION} in {time.monotonic() - started:.0f} s")
    return exe


def _run_with_heartbeat(cmd: list[str], what: str, started: float, echo: Callable[[str], Any], every: float = 20.0) -> tuple[int, str]:
    """Run ``cmd`` (output captured), saying ``what`` runs and the time since ``started`` every
    ``every`` seconds, so a long install is never a silence. Returns ``(exit code, output)``."""
    import tempfile

    with tempfile.TemporaryFile(mode="w+") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        while True:
            try:
                code = proc.wait(timeout=every)
                break
            except subprocess.TimeoutExpired:
                echo(f"  ... {what}: {time.monotonic() - started:.0f} s so far")
        out.seek(0)
        return code, out.read()


def serve(project: Project, port: int, username: str, password: str, token: str | None = None, *, data_dir: Path | None = None,
          allow_local_ml: bool = False, echo: Callable[[str], Any] = print) -> None:
    """Run a local Label Studio on ``127.0.0.1:port`` in the foreground until Ctrl-C or SIGTERM:
    install it if needed (:func:`install`), start it (:class:`StudioServer`), wait until it answers,
    then wait for it; the server is stopped however this ends.

    Args:
        project: the Khabar project.
        port: a free TCP port on 127.0.0.1.
        username, password: the admin user (an e-mail) and its password.
        token: the admin's legacy API token, to switch legacy tokens on (see the module
            docstring); None: the server's default, personal access tokens only.
        data_dir: the server's data folder (default ``<project>/.labelstudio``).
        allow_local_ml: let the server use ML backends and webhooks on local addresses (see the
            module docstring).
        echo: prints progress lines (where the server runs, when it is ready, when it stops).

    Raises:
        StudioError: installing or starting failed, the server did not get ready, or it exited on
            its own (its exit code and log named).
    """
    install(project, echo=echo)
    server = StudioServer(project, port, username, password, token, data_dir=data_dir, allow_local_ml=allow_local_ml).start()
    echo(f"starting Label Studio on {server.url} (log: {server.log_path}) …")
    try:
        server.wait_ready()
        echo(f"Label Studio is ready: {server.url}  (log in as {username}; clients: export LABEL_STUDIO_URL={server.url})")
        if token is None:
            echo("clients need a personal access token: open the page, log in, then Account & Settings -> Personal Access "
                 "Token -> Create, and export LABEL_STUDIO_API_KEY=<that token> (it is shown once; `khabar studio token "
                 "--out FILE` makes one into a file instead)")
        else:
            echo("legacy API tokens are on: clients use LABEL_STUDIO_API_KEY as given to this server")
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        signal.signal(signal.SIGHUP, signal.default_int_handler)  # the terminal closed: stop the server too
        assert server.process is not None
        code = server.process.wait()
        raise StudioError(f"Label Studio exited with code {code}; see {server.log_path}")
    except KeyboardInterrupt:
        echo("stopping Label Studio …")
    finally:
        server.stop()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_busy(port: int) -> bool:
    """Whether something listens on ``127.0.0.1:port``."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def server_env(username: str, password: str, token: str | None, data_dir: Path, allow_local_ml: bool = False) -> dict[str, str]:
    """The environment of the server process: admin user, offline settings; with ``token``, legacy
    API tokens on and the admin's set to it; with ``allow_local_ml``, ML backends and webhooks on
    local addresses allowed (module docstring)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    env.update({
        "LABEL_STUDIO_USERNAME": username, "LABEL_STUDIO_PASSWORD": password, "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
        "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
    })
    if token is not None:  # label_studio/server.py _create_user; organizations/functions.py create_organization
        env.update({"LABEL_STUDIO_USER_TOKEN": token, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true"})
    if allow_local_ml:  # label_studio/core/settings/base.py: ML_BLOCK_LOCAL_IP, SSRF_PROTECTION_ENABLED
        env.update({"ML_BLOCK_LOCAL_IP": "false", "SSRF_PROTECTION_ENABLED": "false"})
    return env


@dataclass
class StudioServer:
    """A Label Studio process on ``127.0.0.1:port``.

    Args:
        project: the Khabar project (data goes to ``<root>/.labelstudio`` unless ``data_dir``).
        port: the TCP port; it must be free (Label Studio itself would silently move to another).
        username, password: the admin user.
        token: the admin's legacy API token, which switches legacy tokens on; None (the default):
            personal access tokens only, as Label Studio sets a new organization up.
        data_dir: the server's data folder (SQLite database, media).
        allow_local_ml: allow ML backends and webhooks on local addresses (module docstring).
    """

    project: Project
    port: int
    username: str
    password: str
    token: str | None = None
    data_dir: Path | None = None
    allow_local_ml: bool = False
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """``<data_dir>/server.log``: the server's output."""
        return self._data_dir / "server.log"

    @property
    def _data_dir(self) -> Path:
        """``data_dir``, or the project's ``.labelstudio/``."""
        return Path(self.data_dir) if self.data_dir else self.project.studio_data

    def start(self) -> "StudioServer":
        """Start the server in the background (its output goes to ``<data_dir>/server.log``).

        Raises:
            StudioError: the port is taken, the token is too short, or label-studio is not installed.
        """
        if self.token is not None and len(self.token) < 6:
            raise StudioError("LABEL_STUDIO_API_KEY must be at least 6 characters (Label Studio ignores shorter tokens)")
        if "@" not in self.username:
            raise StudioError(f"LABEL_STUDIO_USERNAME must be an e-mail address (Label Studio's login), got {self.username!r}")
        if _port_busy(self.port):
            raise StudioError(f"port {self.port} on 127.0.0.1 is taken", hint="stop what runs there or pass --port")
        exe = label_studio_bin(self.project)
        if not exe.exists():
            raise StudioError(f"label-studio is not installed at {exe}", hint="run `khabar studio install`")
        bad = next((p for p in [self._data_dir, *self._data_dir.parents] if p.exists() and not p.is_dir()), None)
        if bad is not None:
            raise StudioError(f"--data-dir {self._data_dir}: {bad} is a file, not a folder", hint="name a folder for the server's data")
        self._data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private(self._data_dir)  # it holds the database (users, tokens) and the log
        self._lock()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        log = os.fdopen(fd, "ab")
        cmd = [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self._data_dir)] + (["--enable-legacy-api-token"] if self.token is not None else [])
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=server_env(self.username, self.password, self.token, self._data_dir,
                                                       self.allow_local_ml),
                                        cwd=self._data_dir, start_new_session=True, preexec_fn=_child_setup,
                                        pass_fds=(self._lock_file.fileno(),))  # the lock lives as long as the server
        self._write_lock_info()
        threading.Thread(target=_copy_redacted, args=(self.process.stdout, log), daemon=True,
                         name="label-studio-log").start()
        return self

    def _write_lock_info(self) -> None:
        """Name this run in serve.lock: what a second serve tells the user when the lock is held."""
        assert self.process is not None
        fh = self._lock_file
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"serve_pid": os.getpid(), "server_pid": self.process.pid, "port": self.port}))
        fh.flush()

    def _lock(self) -> None:
        """Hold ``<data_dir>/serve.lock`` while this server runs: two servers on one SQLite data folder
        would corrupt it."""
        import fcntl

        fh = open(os.open(self._data_dir / "serve.lock", os.O_RDWR | os.O_CREAT, 0o600), "r+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            info = _lock_info(fh)
            fh.close()
            server, serve = info.get("server_pid"), info.get("serve_pid")
            if isinstance(server, int) and isinstance(serve, int) and not _alive(serve) and _alive(server):
                raise StudioError(f"an orphaned Label Studio (pid {server}, port {info.get('port')}) holds {self._data_dir}: "
                                  f"the `khabar studio serve` that started it (pid {serve}) is gone",
                                  hint=f"stop it with `kill {server}`, then start the server again") from None
            raise StudioError(f"another Label Studio is serving {self._data_dir} (it holds serve.lock"
                              + (f"; port {info['port']}, pid {server}" if isinstance(server, int) else "") + ")",
                              hint="use that one (its URL is in its terminal), or stop it first") from None
        self._lock_file = fh

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Wait until ``/health`` answers and the admin can log in (and, with a legacy ``token``, it
        is accepted).

        Raises:
            StudioError: the process ended, the time ran out, the admin's password or the token is
                refused (a data folder made earlier with others).
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise StudioError(f"Label Studio exited with code {self.process.returncode} while starting; see {self.log_path}:\n"
                                  + _tail(self.log_path))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise StudioError(f"Label Studio did not answer on {self.url} within {timeout:.0f} s; see {self.log_path}:\n" + _tail(self.log_path))
            time.sleep(1.0)
        from khabar.studio.tokens import login

        try:
            login(self.url, self.username, self.password).close()
        except StudioError:
            raise StudioError(f"Label Studio on {self.url} refuses {self.username} with LABEL_STUDIO_PASSWORD: the data "
                              f"folder {self._data_dir} was set up with another user or password",
                              hint="use the user and password it was first started with, or move the data folder away") from None
        if self.token is None:
            return
        req = urllib.request.Request(self.url + "/api/current-user/whoami", headers={"Authorization": f"Token {self.token}"})
        try:
            urllib.request.urlopen(req, timeout=30).close()
        except urllib.error.HTTPError as err:
            raise StudioError(f"Label Studio on {self.url} refuses the legacy API key (HTTP {err.code}): the data folder "
                              f"{self._data_dir} was set up with another LABEL_STUDIO_API_KEY, or without legacy tokens",
                              hint="use the key it was first started with, or serve without --legacy-token and use a "
                                   "personal access token") from None

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server (SIGTERM to its process group, then SIGKILL) and release the lock."""
        try:
            self._stop(timeout)
        finally:
            lock = getattr(self, "_lock_file", None)
            if lock is not None:
                lock.close()
                self._lock_file = None

    def _stop(self, timeout: float) -> None:
        """SIGTERM the server's process group, SIGKILL it after ``timeout`` seconds."""
        p = self.process
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout)
        except ProcessLookupError:
            pass


def _tail(path: Path, n: int = 15) -> str:
    """The last ``n`` lines of the log at ``path`` (pip's location warnings left out)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join([ln for ln in lines if "Location 'file://" not in ln][-n:])
