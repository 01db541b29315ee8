"""A realistic registry of N mails, bulk-inserted with SQLAlchemy Core (no services, no files).

Deterministic for a seed. Shape of one agency: 61 units (6 directions, 3 divisions each, 2
services per division), 300 people, 8,000 correspondents, 12 mail types; mail over two years
ending at ``AS_OF``: 60 % incoming, 30 % outgoing, 10 % internal; a few units receive most of it;
old mail mostly closed, recent mail mostly open; ~3 % confidential, naming one or two people.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert

from ged.adapters.orm import (
    ChronoCounter,
    Correspondent,
    Mail,
    MailPerson,
    MailType,
    MailUnit,
    Unit,
    User,
)

AS_OF = dt.date(2026, 11, 20)
DAYS = 730
BATCH = 10_000
DIRECTIONS = (("incoming", "A", 0.6), ("outgoing", "D", 0.3), ("internal", "I", 0.1))
TYPES = [
    ("DEM", "Demande", 10),
    ("REC", "Réclamation", 15),
    ("FAC", "Facture", 30),
    ("CONV", "Convocation", 3),
    ("INV", "Invitation", 5),
    ("RAP", "Rapport", 20),
    ("NS", "Note de service", 5),
    ("CIR", "Circulaire", 10),
    ("PLA", "Plainte", 15),
    ("AUT", "Autorisation", 20),
    ("INF", "Information", 0),
    ("JUR", "Contentieux", 30),
]
SUBJECTS = [
    "Demande d'autorisation de construire",
    "Réclamation relative à la facture d'eau",
    "Convocation à la réunion du conseil",
    "Transmission du rapport d'activité",
    "Demande de certificat administratif",
    "Invitation au séminaire régional",
    "Plainte concernant l'éclairage public",
    "Note relative au budget de fonctionnement",
    "Demande de raccordement au réseau",
    "Suivi du marché de travaux",
]


@dataclass
class Corpus:
    """What the generator made that the benchmark needs to pick its actors and filters."""

    directions: list[int] = field(default_factory=list)  # top-level units
    divisions: dict[int, list[int]] = field(default_factory=dict)  # direction -> divisions
    agents: dict[int, int] = field(default_factory=dict)  # unit -> an agent of it
    registrars: list[int] = field(default_factory=list)
    mails: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Corpus:
        """Back from the cache's JSON, whose object keys are strings."""
        return cls(
            directions=data["directions"],
            divisions={int(k): v for k, v in data["divisions"].items()},
            agents={int(k): v for k, v in data["agents"].items()},
            registrars=data["registrars"],
            mails=data["mails"],
        )


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(conn: Connection, mails: int, seed: int = 20261123) -> Corpus:
    """Insert the whole registry in the caller's transaction."""
    rng = random.Random(seed)
    corpus = Corpus(mails=mails)
    now = dt.datetime.combine(AS_OF, dt.time(12), dt.UTC)

    # Units: ids are assigned here so that children can name their parent in one insert.
    units: list[dict[str, Any]] = [{"id": 1, "code": "AG", "name": "Agence", "parent_id": None}]
    leaves: list[int] = []
    for d in range(1, 7):
        direction = len(units) + 1
        units.append({"id": direction, "code": f"D{d}", "name": f"Direction {d}", "parent_id": 1})
        corpus.directions.append(direction)
        corpus.divisions[direction] = []
        for v in range(1, 4):
            division = len(units) + 1
            units.append(
                {
                    "id": division,
                    "code": f"D{d}V{v}",
                    "name": f"Division {d}.{v}",
                    "parent_id": direction,
                }
            )
            corpus.divisions[direction].append(division)
            leaves.append(division)
            for s in range(1, 3):
                service = len(units) + 1
                units.append(
                    {
                        "id": service,
                        "code": f"D{d}V{v}S{s}",
                        "name": f"Service {d}.{v}.{s}",
                        "parent_id": division,
                    }
                )
                leaves.append(service)
    for unit in units:
        unit.update(name_ar="", active=True, created_at=now, manager_id=None)
    conn.execute(insert(Unit), units)
    unit_ids = [u["id"] for u in units]

    # People: a manager per unit, agents everywhere, a bureau d'ordre, admins and auditors.
    people: list[dict[str, Any]] = []

    def person(role: str, unit_id: int | None) -> int:
        user_id = len(people) + 1
        people.append(
            {
                "id": user_id,
                "username": f"{role}{user_id}",
                "full_name": f"Personne {user_id}",
                "email": "",
                "password_hash": "!",  # no password: these accounts cannot log in
                "role": role,
                "unit_id": unit_id,
                "locale": "fr",
                "active": True,
                "created_at": now,
                "password_changed_at": now,
                "last_login_at": None,
            }
        )
        return user_id

    for unit_id in unit_ids:
        person("manager", unit_id)
    for n in range(225):
        unit_id = unit_ids[n % len(unit_ids)]
        corpus.agents.setdefault(unit_id, person("agent", unit_id))
    corpus.registrars = [person("registrar", 1) for _ in range(6)]
    person("admin", None)
    person("admin", None)
    for _ in range(3):
        person("auditor", None)
    conn.execute(insert(User), people)
    agents = [p["id"] for p in people if p["role"] == "agent"]

    conn.execute(
        insert(Correspondent),
        [
            {
                "id": n,
                "kind": "organisation" if n % 3 else "person",
                "name": f"{'Société' if n % 3 else 'M.'} Correspondant {n}",
                "organisation": "",
                "email": "",
                "phone": "",
                "address": "",
                "city": "",
                "country": "MA",
                "created_at": now,
            }
            for n in range(1, 8001)
        ],
    )
    conn.execute(
        insert(MailType),
        [
            {
                "id": n,
                "code": code,
                "name": name,
                "name_ar": "",
                "delay_days": delay,
                "circuit": "",
                "active": True,
            }
            for n, (code, name, delay) in enumerate(TYPES, start=1)
        ],
    )

    # A few units get most of the mail (Zipf-like weights over the leaf units).
    unit_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(leaves))]
    rng.shuffle(unit_weights)
    directions = [d for d, _, _ in DIRECTIONS]
    prefixes = {d: p for d, p, _ in DIRECTIONS}
    direction_weights = [w for _, _, w in DIRECTIONS]

    # Registration times, oldest first, so that ids grow with time as in real life.
    start = now - dt.timedelta(days=DAYS)
    moments = sorted(
        start + dt.timedelta(seconds=rng.uniform(0, DAYS * 86400)) for _ in range(mails)
    )
    counters: dict[tuple[str, int], int] = defaultdict(int)
    mail_units: list[dict[str, int]] = []
    mail_people: list[dict[str, int]] = []

    def mail_rows() -> Iterator[dict[str, Any]]:
        for mail_id, moment in enumerate(moments, start=1):
            if moment.weekday() >= 5:  # weekend post is registered on Monday
                moment += dt.timedelta(days=7 - moment.weekday())
            moment = min(moment, now)
            day = moment.date()
            direction = rng.choices(directions, direction_weights)[0]
            counters[(direction, day.year)] += 1
            number = counters[(direction, day.year)]
            age = (AS_OF - day).days
            if direction == "incoming":
                if age > 60:
                    status = rng.choices(["closed", "answered", "in_progress"], [70, 20, 10])[0]
                else:
                    status = rng.choices(["registered", "in_progress", "answered"], [50, 40, 10])[0]
            else:
                status = "closed" if age > 30 else rng.choice(["registered", "in_progress"])
            type_index = rng.randrange(len(TYPES)) if rng.random() < 0.9 else None
            delay = TYPES[type_index][2] if type_index is not None else 0
            confidential = rng.random() < 0.03
            addressed = rng.choices(leaves, unit_weights, k=1 if rng.random() < 0.8 else 2)
            if direction == "incoming" or rng.random() < 0.7:
                for unit_id in dict.fromkeys(addressed):
                    mail_units.append({"mail_id": mail_id, "unit_id": unit_id})
            if confidential or rng.random() < 0.05:
                for user_id in set(rng.sample(agents, rng.choice([1, 1, 2]))):
                    mail_people.append({"mail_id": mail_id, "user_id": user_id})
            yield {
                "id": mail_id,
                "chrono": f"{prefixes[direction]}-{day.year}-{number:06d}",
                "direction": direction,
                "year": day.year,
                "number": number,
                "status": status,
                "subject": f"{rng.choice(SUBJECTS)} n° {mail_id}",
                "correspondent_id": rng.randint(1, 8000) if direction != "internal" else None,
                "letter_date": day - dt.timedelta(days=rng.randint(0, 10)),
                "mail_date": day,
                "sender_reference": f"REF/{day.year}/{rng.randint(1, 99999)}",
                "mail_type_id": type_index + 1 if type_index is not None else None,
                "priority": rng.choices(["normal", "urgent", "very_urgent"], [85, 12, 3])[0],
                "confidential": confidential,
                "channel": rng.choices(["post", "hand", "email", "portal"], [50, 25, 20, 5])[0],
                "due_on": day + dt.timedelta(days=delay * 7 // 5)
                if direction != "outgoing" and delay
                else None,
                "answer_to_id": None,
                "registered_at": moment,
                "registered_by_id": rng.choice(corpus.registrars)
                if direction != "internal"
                else rng.choice(agents),
                "updated_at": moment,
            }

    for batch in _batches(mail_rows()):
        conn.execute(insert(Mail), batch)
    for batch in _batches(iter(mail_units)):
        conn.execute(insert(MailUnit), batch)
    for batch in _batches(iter(mail_people)):
        conn.execute(insert(MailPerson), batch)
    conn.execute(
        insert(ChronoCounter),
        [{"direction": d, "year": y, "last_value": v} for (d, y), v in counters.items()],
    )
    return corpus
