"""Registrations run in spawned processes, each with its own container built from settings.

Lives outside the test modules so that a spawned interpreter imports only what it needs. What
each worker registers is a pure function of (worker, n), so the test can check every mail.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier

from ged.config import Settings
from ged.domain.model import Role
from ged.services.audit import Actor
from ged.services.mail import MailInput
from ged.services.uploads import Upload
from tests.integration.concurrency import BARRIER_TIMEOUT

# The same annex travels with many mails: concurrent writers store it once.
SHARED_ANNEX = b"%PDF-1.4\n% annexe commune: formulaire de reclamation\n%%EOF\n"


@dataclass(frozen=True)
class Planned:
    subject: str
    files: tuple[tuple[str, bytes], ...]
    new_correspondent: str  # '' when the mail names the existing correspondent


def planned(worker: int, n: int) -> Planned:
    """The mail that worker ``worker`` registers ``n``-th: 1 or 2 files, sometimes a new sender."""
    main = (f"courrier-w{worker}-n{n}.pdf", f"%PDF-1.4\n% w{worker} n{n}\n%%EOF\n".encode())
    files = (main, ("annexe.pdf", SHARED_ANNEX)) if n % 2 else (main,)
    # Mixing mails that create their correspondent on the fly (an audit event before the chrono
    # is taken) with mails that do not exercises the order in which the two locks are taken.
    new_correspondent = f"Société w{worker} n{n}" if n % 3 == 0 else ""
    return Planned(f"Lot w{worker} n{n}", files, new_correspondent)


def register_mails(
    settings: Settings,
    registrar_id: int,
    unit_id: int,
    correspondent_id: int,
    worker: int,
    count: int,
    barrier: Barrier,
) -> None:
    from ged.bootstrap import build

    container = build(settings)
    try:
        actor = Actor(registrar_id, f"greffe-{worker}", Role.REGISTRAR)
        barrier.wait(BARRIER_TIMEOUT)
        for n in range(count):
            plan = planned(worker, n)
            container.registry.register(
                actor,
                MailInput(
                    direction="incoming",
                    subject=plan.subject,
                    correspondent_id=None if plan.new_correspondent else correspondent_id,
                    correspondent_name=plan.new_correspondent,
                    unit_ids=(unit_id,),
                ),
                [Upload(io.BytesIO(data), name) for name, data in plan.files],
            )
    finally:
        container.dispose()
