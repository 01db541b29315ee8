"""Deployed circuits: versioned BPMN definitions, who works in each lane, and the working calendar.

Circuits are code, so only administrators deploy them. A deployment is validated by
`workflows` (hardened XML, BPMN schema, safe expressions), then stored as a new version with one
binding per lane; running instances keep the version they started with.

Lane bindings (a small closed set, `BindingKind`):

| kind | value | who gets the task |
|---|---|---|
| `unit` | unit code | the unit's pool: any member may claim it |
| `unit_manager` | unit code | the unit's manager (its pool if it has none) |
| `top_unit_manager` | — | the manager of the top of the org chart (the director) |
| `role` | role | the pool of everyone with that role (e.g. `registrar`) |
| `addressed_unit` | — | the pool of the unit in the variable `addressed_unit`, else of the mail's first unit |
| `addressed_unit_manager` | — | that unit's manager (its pool if it has none) |
| `data_unit` | variable | the pool of the unit the variable names (id or code; multi-instance items too) |
| `data_user` | variable | the user the variable names (id or user name) |
| `initiator` | — | who registered the mail or submitted the document |

A lane that names nobody when its task is created (a unit without members, a variable left
empty) goes to the administrators' pool, and the audit log says why; when the person completing
the step gave the value, the step is refused instead.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ged.adapters.orm import (
    CircuitDefinition,
    CircuitInstance,
    Holiday,
    LaneBinding,
    Mail,
    MailType,
    Unit,
)
from ged.adapters.uow import UnitOfWork
from ged.domain.calendar import WorkingCalendar
from ged.domain.errors import Conflict, Label, Message, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Role
from ged.services.audit import Actor, record
from ged.services.permissions import visible_mail
from workflows.engine import BUNDLED_CIRCUITS, CircuitEngine, bundled_definition
from workflows.errors import CircuitError
from workflows.model import Circuit

_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")


class BindingKind(enum.StrEnum):
    UNIT = "unit"
    UNIT_MANAGER = "unit_manager"
    TOP_UNIT_MANAGER = "top_unit_manager"
    ROLE = "role"
    ADDRESSED_UNIT = "addressed_unit"
    ADDRESSED_UNIT_MANAGER = "addressed_unit_manager"
    DATA_UNIT = "data_unit"
    DATA_USER = "data_user"
    INITIATOR = "initiator"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def takes(self) -> str:
        """What the value is: `unit`, `role`, `variable`, or '' (no value)."""
        if self in (BindingKind.UNIT, BindingKind.UNIT_MANAGER):
            return "unit"
        if self is BindingKind.ROLE:
            return "role"
        if self in (BindingKind.DATA_UNIT, BindingKind.DATA_USER):
            return "variable"
        return ""


_KIND_LABELS = {
    BindingKind.UNIT: "les membres d'une entité",
    BindingKind.UNIT_MANAGER: "le responsable d'une entité",
    BindingKind.TOP_UNIT_MANAGER: "le responsable de l'entité de tête (directeur)",
    BindingKind.ROLE: "les titulaires d'un rôle",
    BindingKind.ADDRESSED_UNIT: "l'entité destinataire",
    BindingKind.ADDRESSED_UNIT_MANAGER: "le responsable de l'entité destinataire",
    BindingKind.DATA_UNIT: "l'entité désignée par une variable",
    BindingKind.DATA_USER: "la personne désignée par une variable",
    BindingKind.INITIATOR: "la personne qui a enregistré le courrier ou soumis le document",
}


@dataclass(frozen=True)
class Binding:
    """Who works in a lane, as an administrator writes it: `kind` or `kind:value`."""

    kind: BindingKind
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Binding:
        kind_text, _, value = text.strip().partition(":")
        try:
            kind = BindingKind(kind_text.strip())
        except ValueError:
            kinds = ", ".join(k.value for k in BindingKind)
            raise ValidationError(
                "Affectation inconnue « %(kind)s » : choisissez parmi %(kinds)s.",
                kind=kind_text.strip(),
                kinds=kinds,
            ) from None
        return cls(kind, value.strip())

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}" if self.value else self.kind.value


# The bundled circuits' lanes, bound by the conventions of workflows/circuits/README.md.
DEFAULT_BINDINGS: Mapping[str, Binding] = {
    "director": Binding(BindingKind.TOP_UNIT_MANAGER),
    "addressed_unit": Binding(BindingKind.ADDRESSED_UNIT),
    "addressed_unit_manager": Binding(BindingKind.ADDRESSED_UNIT_MANAGER),
    "consulted_unit": Binding(BindingKind.DATA_UNIT, "consulted_unit"),
    "author": Binding(BindingKind.DATA_USER, "author"),
    "approver": Binding(BindingKind.DATA_USER, "approver"),
    "signatory": Binding(BindingKind.DATA_USER, "signatory"),
    "reviewer": Binding(BindingKind.DATA_USER, "reviewer"),
    "registry": Binding(BindingKind.ROLE, Role.REGISTRAR.value),
}


@dataclass(frozen=True)
class StoredBinding:
    kind: BindingKind
    unit_id: int | None
    value: str


@dataclass(frozen=True)
class DeployedCircuit:
    """A stored definition version, parsed: what a step needs (cached; versions never change)."""

    id: int
    process_id: str
    version: int
    name: str
    bpmn: bytes
    circuit: Circuit
    bindings: Mapping[str, StoredBinding]


@dataclass(frozen=True)
class Deployment:
    id: int
    process_id: str
    version: int
    created: bool  # False: the same file with the same bindings was already the active version


@dataclass(frozen=True)
class CircuitSummary:
    id: int
    process_id: str
    version: int
    name: str
    active: bool
    sha256: str
    lanes: tuple[str, ...]
    bindings: Mapping[str, str]  # lane → "kind:value" (unit codes, not ids)
    deployed_at: dt.datetime
    deployed_by: str


@dataclass(frozen=True)
class MailTypeUse:
    code: str
    name: str
    active: bool


@dataclass(frozen=True)
class CircuitOverview:
    """One circuit as the administration page lists it: its versions and who uses it."""

    process_id: str
    name: str  # the newest version's
    versions: tuple[CircuitSummary, ...]  # newest first
    running: Mapping[int, int]  # definition id → instances still running on that version
    mail_types: tuple[MailTypeUse, ...]  # the mail types whose registration starts it

    @property
    def active(self) -> CircuitSummary | None:
        return next((v for v in self.versions if v.active), None)


@dataclass(frozen=True)
class LaneView:
    """A lane of a circuit about to be deployed, and the binding the form starts from."""

    name: str
    tasks: tuple[str, ...]  # names of the user tasks drawn in it
    # Variables a `data_unit` / `data_user` binding may name here: the lane's own name when it is
    # one (the bundled circuits' convention) and the items of its multi-instance tasks.
    variables: tuple[str, ...]
    suggested: str  # "kind[:value]": the newest version's binding, else the convention, else ''


@dataclass(frozen=True)
class CircuitPreview:
    process_id: str
    name: str
    sha256: str
    size: int
    lanes: tuple[LaneView, ...]
    latest_version: int | None  # the newest stored version of this process, if any
    same_file: bool  # the active version is this very file


@dataclass(frozen=True)
class HolidayView:
    day: dt.date
    name: str

    @property
    def on_weekend(self) -> bool:
        return self.day.weekday() in WorkingCalendar().weekend


@dataclass(frozen=True)
class HolidayYear:
    year: int
    holidays: tuple[HolidayView, ...]
    years: tuple[int, ...]  # the years that have holidays, and this one
    weekend: tuple[int, ...]  # weekday numbers (Monday 0) that are never working days


# Far enough back for imported registers, far enough ahead for announced holidays: a date outside
# is a typing mistake (a two-digit year, an extra zero).
FIRST_YEAR = 1950
LAST_YEAR = 2100
# The weekend deadlines skip, as the working calendar defines it.
WEEKEND_DAYS = tuple(sorted(WorkingCalendar().weekend))


def require_admin(actor: Actor) -> None:
    if actor.user_id is not None and actor.role is not Role.ADMIN:
        raise PermissionDenied(
            "Seul un administrateur déploie des circuits ou modifie le calendrier."
        )


def require_reader(actor: Actor) -> None:
    """Administrators and auditors read the circuits and the calendar's administration."""
    if actor.user_id is not None and actor.role not in (Role.ADMIN, Role.AUDITOR):
        raise PermissionDenied("Réservé aux administrateurs et aux auditeurs.")


# -- French messages for refused circuits ----------------------------------------------------------

# The engine's messages say precisely where the problem is; each is kept as the detail after a
# French sentence that says what it is.
_FRENCH: tuple[tuple[str, Label], ...] = (
    ("The file is empty", Label("Le fichier est vide : envoyez un fichier BPMN 2.0 (.bpmn).")),
    ("circuits are limited to", Label("Le fichier est trop volumineux pour un circuit.")),
    (
        "declares a DOCTYPE",
        Label(
            "Le fichier déclare un DOCTYPE, interdit dans un circuit (il permet l'expansion "
            "d'entités et la lecture de fichiers) : exportez de nouveau le diagramme sans DOCTYPE."
        ),
    ),
    (
        "declares XML entities",
        Label("Le fichier déclare des entités XML, interdites dans un circuit."),
    ),
    (
        "external resource",
        Label("Le fichier fait référence à une ressource externe, ce qui est interdit."),
    ),
    ("forbidden XML feature", Label("Le fichier utilise une fonctionnalité XML interdite.")),
    ("not well-formed XML", Label("Le fichier n'est pas un XML bien formé.")),
    ("This is not a BPMN 2.0 file", Label("Ce fichier n'est pas un diagramme BPMN 2.0.")),
    ("not valid BPMN 2.0", Label("Le fichier n'est pas conforme au schéma BPMN 2.0.")),
    (
        "Script tasks are not allowed",
        Label(
            "Les tâches de script sont interdites : un circuit achemine le travail entre des "
            "personnes, les calculs appartiennent à l'application."
        ),
    ),
    ("Scripts are not allowed", Label("Les scripts sont interdits dans un circuit.")),
    (
        "are not supported",
        Label("Le circuit utilise un élément BPMN que ged ne prend pas en charge."),
    ),
    (
        "is not supported in circuits",
        Label("Le circuit utilise un élément BPMN non pris en charge."),
    ),
    (
        "The start event's id is 'Start'",
        Label(
            "L'événement de début porte l'identifiant « Start », réservé par le moteur : "
            "renommez-le (par exemple « registered »)."
        ),
    ),
    (
        "is reserved by the workflow engine",
        Label("Un identifiant est réservé par le moteur : renommez-le."),
    ),
    ("contains a '.'", Label("Un identifiant contient un point : utilisez le snake_case.")),
    ("contains no process", Label("Le fichier ne contient aucun processus.")),
    (
        "processes (",
        Label("Le fichier contient plusieurs processus : un circuit en a exactement un."),
    ),
    (
        "not marked executable",
        Label('Le processus n\'est pas marqué exécutable (isExecutable="true").'),
    ),
    (
        "must be snake_case",
        Label("L'identifiant du processus doit être en snake_case (ex. incoming_mail)."),
    ),
    ("has no name: lanes", Label("Un couloir n'a pas de nom : chaque couloir doit en avoir un.")),
    ("is not in any lane", Label("Une tâche utilisateur n'est dans aucun couloir.")),
    (
        "loops without any user task",
        Label("Le circuit boucle sans tâche ni minuterie : il tournerait sans fin."),
    ),
    ("outcome", Label("Les issues (ged:outcomes) d'une tâche sont mal déclarées.")),
    ("timer", Label("Une minuterie du circuit est invalide.")),
    ("expression", Label("Une expression du circuit est refusée.")),
    ("The circuit cannot run", Label("Le moteur ne peut pas exécuter ce circuit.")),
)


def french_circuit_error(error: CircuitError) -> Message:
    """What a person reads when a circuit is refused: a sentence of ours (translated with the
    page) and the engine's own detail (English, for whoever fixes the diagram)."""
    detail = str(error)
    sentence = next(
        (french for marker, french in _FRENCH if marker.lower() in detail.lower()),
        Label("Circuit refusé."),
    )
    return Message("%(sentence)s Détail : %(detail)s", {"sentence": sentence, "detail": detail})


# -- The service -----------------------------------------------------------------------------------


class Circuits:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        engine: CircuitEngine,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self.engine = engine
        self._cache: dict[int, DeployedCircuit] = {}
        self._lock = threading.Lock()

    # Deploying

    def deploy(
        self,
        actor: Actor,
        bpmn: bytes,
        bindings: Mapping[str, Binding] | None = None,
        keep_previous: bool = True,
    ) -> Deployment:
        """Validate and store a new version.

        Lanes not bound here keep the previous version's binding, unless `keep_previous` is
        false (a form that lists every lane: a lane left empty there is a lane bound to nothing).
        """
        require_admin(actor)
        with self._writer() as uow:
            deployment = self.deploy_in(
                uow.session, actor, bpmn, bindings or {}, keep_previous=keep_previous
            )
            try:
                uow.commit()
            except IntegrityError:
                raise Conflict(
                    "Une autre version de ce circuit vient d'être déployée : recommencez."
                ) from None
            return deployment

    def deploy_in(
        self,
        session: Session,
        actor: Actor,
        bpmn: bytes,
        bindings: Mapping[str, Binding],
        audit: bool = True,
        keep_previous: bool = True,
    ) -> Deployment:
        require_admin(actor)
        circuit = self.parse(bpmn)
        previous = session.execute(
            select(CircuitDefinition)
            .where(CircuitDefinition.process_id == circuit.process_id)
            .order_by(CircuitDefinition.version.desc())
            .limit(1)
        ).scalar_one_or_none()
        wanted = dict(bindings)
        unknown = sorted(set(wanted) - set(circuit.lanes))
        if unknown:
            raise ValidationError(
                "Le circuit « %(circuit)s » n'a pas de couloir %(unknown)s (couloirs : %(lanes)s).",
                circuit=circuit.process_id,
                unknown=", ".join(f"« {lane} »" for lane in unknown),
                lanes=", ".join(circuit.lanes),
            )
        if previous is not None and keep_previous:
            for lane, stored in self._bindings(session, previous.id).items():
                if lane in circuit.lanes and lane not in wanted:
                    wanted[lane] = self._as_binding(session, stored)
        missing = [lane for lane in circuit.lanes if lane not in wanted]
        if missing:
            raise ValidationError(
                "Couloir(s) sans affectation : %(lanes)s. Liez chaque couloir à "
                "des personnes (par exemple --bind director=top_unit_manager ou "
                "--bind service=unit:SAU).",
                lanes=", ".join(missing),
            )
        resolved = {
            lane: self._check_binding(session, lane, wanted[lane]) for lane in circuit.lanes
        }
        if (
            previous is not None
            and previous.sha256 == circuit.sha256
            and previous.active
            and self._bindings(session, previous.id) == resolved
        ):
            return Deployment(previous.id, previous.process_id, previous.version, False)
        version = (previous.version if previous is not None else 0) + 1
        session.execute(
            update(CircuitDefinition)
            .where(CircuitDefinition.process_id == circuit.process_id)
            .values(active=False)
        )
        row = CircuitDefinition(
            process_id=circuit.process_id,
            version=version,
            name=circuit.name[:200],
            bpmn=bytes(bpmn),
            sha256=circuit.sha256,
            lanes=list(circuit.lanes),
            active=True,
            deployed_by_id=actor.user_id,
            deployed_by_name=actor.username[:64],
        )
        session.add(row)
        session.flush()
        for lane, stored in resolved.items():
            session.add(
                LaneBinding(
                    definition_id=row.id,
                    lane=lane,
                    kind=stored.kind.value,
                    unit_id=stored.unit_id,
                    value=stored.value,
                )
            )
        session.flush()
        if audit:
            record(
                session,
                actor,
                AuditAction.CIRCUIT_DEPLOYED,
                "circuit",
                row.id,
                {
                    "process_id": row.process_id,
                    "version": version,
                    "sha256": row.sha256,
                    "bindings": {lane: str(wanted[lane]) for lane in circuit.lanes},
                },
            )
        return Deployment(row.id, row.process_id, version, True)

    def deploy_bundled(self, session: Session, actor: Actor, audit: bool = True) -> list[str]:
        """Deploy the bundled circuits that were never deployed; returns their process ids."""
        deployed = set(session.execute(select(CircuitDefinition.process_id).distinct()).scalars())
        done = []
        for process_id in BUNDLED_CIRCUITS:
            if process_id in deployed:
                continue
            bpmn = bundled_definition(process_id)
            lanes = self.parse(bpmn).lanes
            bindings = {lane: DEFAULT_BINDINGS[lane] for lane in lanes if lane in DEFAULT_BINDINGS}
            self.deploy_in(session, actor, bpmn, bindings, audit=audit)
            done.append(process_id)
        return done

    def preview(self, actor: Actor, bpmn: bytes) -> CircuitPreview:
        """What deploying this file would store: its lanes and the bindings to start from."""
        require_admin(actor)
        circuit = self.parse(bpmn)
        with self._reader() as uow:
            session = uow.session
            latest = session.execute(
                select(CircuitDefinition)
                .where(CircuitDefinition.process_id == circuit.process_id)
                .order_by(CircuitDefinition.version.desc())
                .limit(1)
            ).scalar_one_or_none()
            previous = (
                {
                    lane: str(self._as_binding(session, stored))
                    for lane, stored in self._bindings(session, latest.id).items()
                }
                if latest is not None
                else {}
            )
        lanes = []
        for lane in circuit.lanes:
            tasks = [task for task in circuit.user_tasks if task.lane == lane]
            variables = [lane] if _VARIABLE.fullmatch(lane) else []
            variables += [t.instance_variable for t in tasks if t.instance_variable]
            default = DEFAULT_BINDINGS.get(lane)
            lanes.append(
                LaneView(
                    name=lane,
                    tasks=tuple(task.name or task.bpmn_id for task in tasks),
                    variables=tuple(dict.fromkeys(variables)),
                    suggested=previous.get(lane) or (str(default) if default else ""),
                )
            )
        return CircuitPreview(
            process_id=circuit.process_id,
            name=circuit.name,
            sha256=circuit.sha256,
            size=len(bpmn),
            lanes=tuple(lanes),
            latest_version=latest.version if latest is not None else None,
            same_file=latest is not None and latest.active and latest.sha256 == circuit.sha256,
        )

    def parse(self, bpmn: bytes) -> Circuit:
        if not isinstance(bpmn, bytes | bytearray):
            raise ValidationError("Envoyez le fichier .bpmn du circuit.")
        try:
            return self.engine.load(bytes(bpmn))
        except CircuitError as error:
            raise ValidationError(french_circuit_error(error)) from None

    def _check_binding(self, session: Session, lane: str, binding: Binding) -> StoredBinding:
        takes = binding.kind.takes
        if takes == "" and binding.value:
            raise ValidationError(
                "Couloir « %(lane)s » : l'affectation %(kind)s ne prend pas de valeur.",
                lane=lane,
                kind=binding.kind.value,
            )
        if takes and not binding.value:
            what = {
                "unit": Label("un code d'entité"),
                "role": Label("un rôle"),
                "variable": Label("une variable"),
            }
            raise ValidationError(
                "Couloir « %(lane)s » : l'affectation %(kind)s attend %(what)s (%(kind)s:VALEUR).",
                lane=lane,
                kind=binding.kind.value,
                what=what[takes],
            )
        if takes == "unit":
            unit_id = session.execute(
                select(Unit.id).where(Unit.code == binding.value.upper(), Unit.active.is_(True))
            ).scalar_one_or_none()
            if unit_id is None:
                raise ValidationError(
                    "Couloir « %(lane)s » : l'entité « %(unit)s » n'existe pas.",
                    lane=lane,
                    unit=binding.value,
                )
            return StoredBinding(binding.kind, unit_id, "")
        if takes == "role":
            roles = [r.value for r in Role if r is not Role.AUDITOR]
            if binding.value not in roles:
                raise ValidationError(
                    "Couloir « %(lane)s » : le rôle « %(role)s » n'existe pas (rôles : %(roles)s).",
                    lane=lane,
                    role=binding.value,
                    roles=", ".join(roles),
                )
        if takes == "variable" and not _VARIABLE.fullmatch(binding.value):
            raise ValidationError(
                "Couloir « %(lane)s » : « %(value)s » n'est pas un nom de variable.",
                lane=lane,
                value=binding.value,
            )
        return StoredBinding(binding.kind, None, binding.value)

    def _as_binding(self, session: Session, stored: StoredBinding) -> Binding:
        if stored.unit_id is not None:
            code = session.execute(select(Unit.code).where(Unit.id == stored.unit_id)).scalar_one()
            return Binding(stored.kind, code)
        return Binding(stored.kind, stored.value)

    @staticmethod
    def _bindings(session: Session, definition_id: int) -> dict[str, StoredBinding]:
        return {
            row.lane: StoredBinding(BindingKind(row.kind), row.unit_id, row.value)
            for row in session.execute(
                select(LaneBinding).where(LaneBinding.definition_id == definition_id)
            ).scalars()
        }

    # Reading

    def definition(self, session: Session, definition_id: int) -> DeployedCircuit:
        """A stored version, parsed once per process: versions are immutable."""
        with self._lock:
            cached = self._cache.get(definition_id)
        if cached is not None:
            return cached
        row = session.get(CircuitDefinition, definition_id)
        if row is None:
            raise NotFound("Circuit introuvable.")
        deployed = DeployedCircuit(
            id=row.id,
            process_id=row.process_id,
            version=row.version,
            name=row.name,
            bpmn=bytes(row.bpmn),
            circuit=self.engine.load(bytes(row.bpmn)),
            bindings=self._bindings(session, row.id),
        )
        with self._lock:
            self._cache[definition_id] = deployed
        return deployed

    def active_definition_id(self, session: Session, process_id: str) -> int | None:
        return session.execute(
            select(CircuitDefinition.id).where(
                CircuitDefinition.process_id == process_id, CircuitDefinition.active.is_(True)
            )
        ).scalar_one_or_none()

    def list(self, actor: Actor) -> tuple[CircuitSummary, ...]:
        """Every deployed version, newest first per circuit (administrators and auditors)."""
        require_reader(actor)
        with self._reader() as uow:
            return self._summaries(uow.session)

    def overview(self, actor: Actor) -> tuple[CircuitOverview, ...]:
        """Every circuit with its versions, running instances per version and its mail types."""
        require_reader(actor)
        with self._reader() as uow:
            session = uow.session
            summaries = self._summaries(session)
            running = dict(
                session.execute(
                    select(CircuitInstance.definition_id, func.count())
                    .where(CircuitInstance.status == "running")
                    .group_by(CircuitInstance.definition_id)
                ).all()
            )
            uses: dict[str, list[MailTypeUse]] = {}
            for mail_type in session.execute(
                select(MailType).where(MailType.circuit != "").order_by(MailType.code)
            ).scalars():
                uses.setdefault(mail_type.circuit, []).append(
                    MailTypeUse(mail_type.code, mail_type.name, mail_type.active)
                )
        by_process: dict[str, list[CircuitSummary]] = {}
        for summary in summaries:
            by_process.setdefault(summary.process_id, []).append(summary)
        return tuple(
            CircuitOverview(
                process_id=process_id,
                name=versions[0].name,
                versions=tuple(versions),
                running={v.id: running.get(v.id, 0) for v in versions},
                mail_types=tuple(uses.get(process_id, ())),
            )
            for process_id, versions in by_process.items()
        )

    def instance_definition(self, actor: Actor, mail_id: int, instance_id: int) -> DeployedCircuit:
        """The version an instance of a mail runs on, for whoever may see that mail."""
        with self._reader() as uow:
            session = uow.session
            definition_id = session.execute(
                select(CircuitInstance.definition_id)
                .join(Mail, Mail.id == CircuitInstance.mail_id)
                .where(
                    CircuitInstance.id == instance_id,
                    Mail.id == mail_id,
                    visible_mail(session, actor),
                )
            ).scalar_one_or_none()
            if definition_id is None:
                raise NotFound("Circuit introuvable.")
            return self.definition(session, definition_id)

    def _summaries(self, session: Session) -> tuple[CircuitSummary, ...]:
        codes = {row.id: row.code for row in session.execute(select(Unit.id, Unit.code))}
        bindings: dict[int, dict[str, str]] = {}
        for row in session.execute(select(LaneBinding)).scalars():
            value = codes.get(row.unit_id, "?") if row.unit_id is not None else row.value
            bindings.setdefault(row.definition_id, {})[row.lane] = (
                f"{row.kind}:{value}" if value else row.kind
            )
        return tuple(
            CircuitSummary(
                id=row.id,
                process_id=row.process_id,
                version=row.version,
                name=row.name,
                active=row.active,
                sha256=row.sha256,
                lanes=tuple(row.lanes),
                bindings=bindings.get(row.id, {}),
                deployed_at=row.deployed_at,
                deployed_by=row.deployed_by_name,
            )
            for row in session.execute(
                select(CircuitDefinition).order_by(
                    CircuitDefinition.process_id, CircuitDefinition.version.desc()
                )
            ).scalars()
        )


# -- The working calendar ------------------------------------------------------------------------


class Calendar:
    """Public holidays (weekends are fixed): deadlines in working days count neither.

    Changing a holiday moves deadlines set afterwards; a deadline already given to a running
    task is an absolute date and stays as it was.
    """

    def __init__(self, writer: Callable[[], UnitOfWork], reader: Callable[[], UnitOfWork]) -> None:
        self.writer = writer
        self.reader = reader

    def holidays(self, year: int | None = None) -> tuple[HolidayView, ...]:
        with self.reader() as uow:
            query = select(Holiday).order_by(Holiday.day)
            if year is not None:
                query = query.where(
                    Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31)
                )
            return tuple(HolidayView(h.day, h.name) for h in uow.session.execute(query).scalars())

    def year(self, actor: Actor, year: int) -> HolidayYear:
        """One year's holidays for the administration page, with the years that have some."""
        require_reader(actor)
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise NotFound("Année hors du calendrier.")
        with self.reader() as uow:
            session = uow.session
            days = session.execute(
                select(Holiday)
                .where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
                .order_by(Holiday.day)
            ).scalars()
            holidays = tuple(HolidayView(h.day, h.name) for h in days)
            first, last = session.execute(
                select(func.min(Holiday.day), func.max(Holiday.day))
            ).one()
        years = {year}
        if first is not None and last is not None:
            years.update(range(first.year, last.year + 1))
        return HolidayYear(year, holidays, tuple(sorted(years)), WEEKEND_DAYS)

    def holiday(self, actor: Actor, day: dt.date) -> HolidayView:
        require_reader(actor)
        with self.reader() as uow:
            found = uow.session.get(Holiday, day)
            if found is None:
                raise NotFound("Le %(day)s n'est pas un jour férié.", day=day)
            return HolidayView(found.day, found.name)

    def add(self, actor: Actor, day: dt.date, name: str) -> None:
        require_admin(actor)
        name = _holiday_name(name)
        _check_day(day)
        with self.writer() as uow:
            if uow.session.get(Holiday, day) is not None:
                raise ValidationError("Le %(day)s est déjà un jour férié.", "day", day=day)
            uow.session.add(Holiday(day=day, name=name))
            uow.session.flush()
            record(
                uow.session,
                actor,
                AuditAction.HOLIDAY_ADDED,
                "holiday",
                day.isoformat(),
                {"name": name},
            )
            _commit_holiday(uow, day)

    def update(self, actor: Actor, day: dt.date, new_day: dt.date, name: str) -> bool:
        """Move or rename a holiday (a religious holiday is announced a day off, say).

        Returns whether anything changed; an unchanged form writes nothing.
        """
        require_admin(actor)
        name = _holiday_name(name)
        _check_day(new_day)
        with self.writer() as uow:
            session = uow.session
            holiday = session.get(Holiday, day)
            if holiday is None:
                raise NotFound("Le %(day)s n'est pas un jour férié.", day=day)
            changes: dict[str, list[str]] = {}
            if new_day != day:
                if session.get(Holiday, new_day) is not None:
                    raise ValidationError("Le %(day)s est déjà un jour férié.", "day", day=new_day)
                changes["day"] = [day.isoformat(), new_day.isoformat()]
            if name != holiday.name:
                changes["name"] = [holiday.name, name]
            if not changes:
                return False
            # The day is the key: moving a holiday is one UPDATE of it, not a delete and an add.
            session.execute(
                update(Holiday).where(Holiday.day == day).values(day=new_day, name=name)
            )
            record(session, actor, AuditAction.HOLIDAY_UPDATED, "holiday", day.isoformat(), changes)
            _commit_holiday(uow, new_day)
            return True

    def remove(self, actor: Actor, day: dt.date) -> None:
        require_admin(actor)
        with self.writer() as uow:
            holiday = uow.session.get(Holiday, day)
            if holiday is None:
                raise NotFound("Le %(day)s n'est pas un jour férié.", day=day)
            name = holiday.name
            uow.session.delete(holiday)
            uow.session.flush()
            record(
                uow.session,
                actor,
                AuditAction.HOLIDAY_REMOVED,
                "holiday",
                day.isoformat(),
                {"name": name},
            )
            uow.commit()


def _holiday_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise ValidationError("Nom du jour férié obligatoire (100 caractères au plus).", "name")
    return name


def _check_day(day: dt.date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(
            "Date hors du calendrier : choisissez une année entre %(first)s et %(last)s.",
            "day",
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )


def _commit_holiday(uow: UnitOfWork, day: dt.date) -> None:
    try:
        uow.commit()
    except IntegrityError:
        # Another administrator added the same day between our check and our commit.
        raise ValidationError("Le %(day)s est déjà un jour férié.", "day", day=day) from None


def working_calendar(session: Session) -> WorkingCalendar:
    return WorkingCalendar.with_holidays(session.execute(select(Holiday.day)).scalars())
