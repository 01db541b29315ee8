"""A real ged for the browser: a fresh instance folder served by `ged serve` in a child process.

The instance is made the way an operator makes one (``init_instance``: secret key, migrated SQLite
database, holidays, bundled circuits; then the demo organisation and users), and the server is the
production command itself: waitress and the Huey consumer together, so OCR and indexing run in
the background exactly as in production.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ged import bootstrap
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import Settings, load_settings
from ged.demo import DEMO_PASSWORD, load_demo
from ged.domain.model import Role
from ged.services.admin import UserData
from ged.services.audit import Actor
from tests.conftest import FAST_HASHER

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
SETUP = Actor.system("browser tests")
MAX_QUEUED_AT_START = 50


@dataclass(frozen=True)
class Person:
    username: str
    role: Role
    unit: str
    locale: str
    password: str = DEMO_PASSWORD


# The demo users the journeys log in as (ged/demo.py), plus people the demo lacks.
PEOPLE = {
    "secretaire": Person("secretaire", Role.REGISTRAR, "BO", "fr"),
    "directeur": Person("directeur", Role.MANAGER, "DG", "fr"),
    "chef.sau": Person("chef.sau", Role.MANAGER, "SAU", "fr"),
    "agent.sau": Person("agent.sau", Role.AGENT, "SAU", "ar"),
    # A second agent of the same service, who works in French: the French journeys.
    "technicien.sau": Person("technicien.sau", Role.AGENT, "SAU", "fr"),
    "agent.spu": Person("agent.spu", Role.AGENT, "SPU", "fr"),
    "auditeur": Person("auditeur", Role.AUDITOR, "DG", "fr"),
    "admin": Person("admin", Role.ADMIN, "DG", "fr"),
    # A registrar who works in Arabic: the right-to-left journey.
    "katiba": Person("katiba", Role.REGISTRAR, "BO", "ar"),
}
EXTRA_PEOPLE = {"katiba": "أمينة الصقلي", "technicien.sau": "Mehdi Kettani"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def make_instance(instance: Path) -> Settings:
    """`ged init` then `ged demo`, in this process (cheap password hashes), plus EXTRA_PEOPLE."""
    settings = load_settings(
        {"instance": instance, "database_url": "", "redis_url": ""}, environ={}
    )
    settings = bootstrap.init_instance(settings)
    ged = bootstrap.build(settings, passwords=Passwords(FAST_HASHER))
    try:
        load_demo(ged)
        for username, full_name in EXTRA_PEOPLE.items():
            person = PEOPLE[username]
            unit = ged.admin.unit_by_code(SETUP, person.unit)
            assert unit is not None, f"no demo unit {person.unit}"
            ged.admin.create_user(
                SETUP,
                UserData(username, full_name, person.role.value, unit.id, locale=person.locale),
                person.password,
            )
        check_circuits(ged)
        # The journeys wait for the OCR of their own scans: a queue already long with the demo's
        # work would make every such wait a timeout. Say so plainly instead.
        queued = ged.huey.pending_count()
        assert queued <= MAX_QUEUED_AT_START, (
            f"{queued} background jobs queued by the demo data; the browser tests expect an idle "
            "worker (load the demo's mails elsewhere, or let the tests drain the queue)"
        )
    finally:
        ged.dispose()
    return settings


# The circuits the journeys follow, and the demo's mail types whose registration starts them.
CIRCUITS = {"incoming_mail": {"DEM", "REC"}}


def check_circuits(ged: Container) -> None:
    """Say plainly when the instance lacks a circuit the journeys follow, or its binding."""
    deployed = {
        circuit.process_id: {use.code for use in circuit.mail_types if use.active}
        for circuit in ged.circuits.overview(SETUP)
        if circuit.active is not None
    }
    for process_id, codes in CIRCUITS.items():
        assert process_id in deployed, f"circuit {process_id} not deployed by `ged init`"
        missing = codes - deployed[process_id]
        assert not missing, f"mail types {sorted(missing)} do not start circuit {process_id}"


class LiveServer:
    """`ged serve` on 127.0.0.1 and a free port, over ``instance``; its output goes to ``log``.

    ``scanner`` is the scanner folder the server watches, as configured in production.
    """

    def __init__(self, settings: Settings, log: Path, scanner: Path) -> None:
        self.settings = settings
        self.log = log
        self.scanner = scanner
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GED_", "FLASK_"))}
        env.update(
            GED_INSTANCE=str(self.settings.instance),
            GED_DATABASE_URL="",
            GED_REDIS_URL="",
            # Every journey logs in from 127.0.0.1: the per-address throttle is not under test.
            GED_SECURITY_LOGIN_LIMIT_PER_ADDRESS="10000/minute",
            GED_CAPTURE_WATCH_DIR=str(self.scanner),
            # The journeys drop whole files at once (renamed in): no need to wait for a
            # scanner still writing.
            GED_CAPTURE_STABLE_SECONDS="1",
            GED_CAPTURE_POLL_SECONDS="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> None:
        command = [
            sys.executable,
            "-c",
            "from web.cli import main; main()",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(
                command, cwd=ROOT, env=self.environment(), stdout=out, stderr=subprocess.STDOUT
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"ged serve exited with status {self._process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2) as response:  # noqa: S310 (our own http URL)
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"ged serve did not answer within {START_TIMEOUT_S} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # SIGTERM: the consumer stops without waiting for a running OCR job, the web thread with it.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = 80) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    @contextlib.contextmanager
    def container(self) -> Iterator[Container]:
        """The services on the server's instance, for checks and set-ups the UI cannot do.

        Use it to read, or to write what no page writes yet; the server sees the same database.
        """
        ged = bootstrap.build(self.settings, passwords=Passwords(FAST_HASHER))
        try:
            yield ged
        finally:
            ged.dispose()
