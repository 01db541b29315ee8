"""Administration of circuits (deploy a BPMN version, bind its lanes) and of public holidays.

Deploying takes two steps: the file is checked and its lanes shown with a binding each (the
previous version's, or the bundled circuits' convention), then the administrator confirms. The
file travels back with the confirmation, compressed in a hidden field, and is checked again in
full: nothing is kept on the server between the two steps.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any

from babel import dates as babel_dates
from babel.lists import format_list
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from wtforms import DateField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ged.domain.calendar import french_long_date
from ged.domain.errors import GedError, NotFound, ValidationError
from ged.domain.model import Role
from ged.services.admin import require_admin
from ged.services.circuits import (
    FIRST_YEAR,
    LAST_YEAR,
    Binding,
    BindingKind,
    CircuitPreview,
    LaneView,
)
from web.admin import bp
from web.extensions import container
from web.forms import Form
from web.i18n import N_, babel_locale, current_language, local_name, translate
from web.users import current_actor
from workflows.parsing import MAX_BYTES

# Werkzeug keeps at most 500 kB of form fields in memory: a compressed circuit must fit.
MAX_PAYLOAD = 450_000
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
ROLE_LABELS = {r.value: r.label for r in Role if r is not Role.AUDITOR}
# What needs no value, in the order the form offers it.
CONTEXT_KINDS = (
    BindingKind.ADDRESSED_UNIT,
    BindingKind.ADDRESSED_UNIT_MANAGER,
    BindingKind.TOP_UNIT_MANAGER,
    BindingKind.INITIATOR,
)


class UploadForm(Form):
    file = FileField(
        _l("Fichier BPMN 2.0 (.bpmn)"), validators=[FileRequired(_l("Choisissez un fichier."))]
    )


class DeployForm(Form):
    payload = HiddenField(validators=[DataRequired(), Length(max=MAX_PAYLOAD)])


class HolidayForm(Form):
    day = DateField(_l("Date"), validators=[DataRequired(_l("Indiquez une date valide."))])
    name = StringField(
        _l("Nom"),
        validators=[
            DataRequired(_l("Nom du jour férié obligatoire.")),
            Length(max=100, message=_l("100 caractères au plus.")),
        ],
    )


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class LaneChoice:
    """A lane of the deploy form: its select's options by group, and the chosen value."""

    index: int
    lane: LaneView
    groups: tuple[tuple[str, tuple[Option, ...]], ...]
    chosen: str

    @property
    def field(self) -> str:
        return f"binding-{self.index}"


# -- Circuits --------------------------------------------------------------------------------


def _pack(bpmn: bytes) -> str:
    packed = base64.b64encode(zlib.compress(bpmn, 9)).decode()
    if len(packed) > MAX_PAYLOAD:
        raise ValidationError(
            N_(
                "Le fichier est trop volumineux pour être déployé depuis cette page : "
                "utilisez la commande « ged circuit deploy »."
            )
        )
    return packed


def _unpack(payload: str) -> bytes:
    """The file sent back by the confirmation; never inflated past the circuit size limit."""
    try:
        inflater = zlib.decompressobj()
        bpmn = inflater.decompress(base64.b64decode(payload, validate=True), MAX_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise ValidationError(
            N_("Le fichier envoyé est illisible : recommencez le dépôt.")
        ) from None
    return bpmn


def _read_upload(storage: Any) -> bytes:
    if not isinstance(storage, FileStorage):
        raise ValidationError(N_("Choisissez un fichier."))
    # One byte past the limit is enough for the service to refuse an oversized file.
    return storage.stream.read(MAX_BYTES + 1)


def binding_label(text: str, unit_names: dict[str, str]) -> str:
    """How the pages show a stored binding (`kind:value`)."""
    try:
        binding = Binding.parse(text)
    except ValidationError:
        return text
    label = translate(binding.kind.label)
    label = label[:1].upper() + label[1:]
    if binding.kind.takes == "unit":
        name = unit_names.get(binding.value.upper())
        return f"{label} : {binding.value}" + (f" · {name}" if name else "")
    if binding.kind.takes == "role":
        return f"{label} : {translate(ROLE_LABELS.get(binding.value, binding.value))}"
    if binding.kind.takes == "variable":
        return f"{label} : « {binding.value} »"
    return label


def _units() -> list[tuple[str, str]]:
    return [
        (n.unit.code, local_name(n.unit))
        for n in container().admin.unit_tree(current_actor())
        if n.unit.active
    ]


def _lane_choices(preview: CircuitPreview, chosen: dict[int, str]) -> list[LaneChoice]:
    units = _units()
    unit_names = dict(units)
    result = []
    for index, lane in enumerate(preview.lanes):
        context = tuple(Option(k.value, binding_label(k.value, unit_names)) for k in CONTEXT_KINDS)
        groups: list[tuple[str, tuple[Option, ...]]] = [(_("Selon le courrier"), context)]
        variables = tuple(
            Option(f"{kind.value}:{variable}", binding_label(f"{kind.value}:{variable}", {}))
            for variable in lane.variables
            for kind in (BindingKind.DATA_UNIT, BindingKind.DATA_USER)
        )
        if variables:
            groups.append((_("Désigné au cours du circuit"), variables))
        groups += [
            (
                _("Les membres d'une entité"),
                tuple(Option(f"unit:{code}", f"{code} · {name}") for code, name in units),
            ),
            (
                _("Le responsable d'une entité"),
                tuple(Option(f"unit_manager:{code}", f"{code} · {name}") for code, name in units),
            ),
            (
                _("Les titulaires d'un rôle"),
                tuple(
                    Option(f"role:{role}", translate(label)) for role, label in ROLE_LABELS.items()
                ),
            ),
        ]
        value = chosen.get(index, lane.suggested)
        known = {option.value for _, options in groups for option in options}
        if value and value not in known:
            groups.insert(
                0, (_("Affectation actuelle"), (Option(value, binding_label(value, unit_names)),))
            )
        result.append(LaneChoice(index, lane, tuple(groups), value))
    return result


def _render_overview(upload: UploadForm, status: int = 200) -> ResponseReturnValue:
    actor = current_actor()
    circuits = container().circuits.overview(actor)
    unit_names = {n.unit.code: local_name(n.unit) for n in container().admin.unit_tree(actor)}
    return render_template(
        "admin/circuits.html",
        circuits=circuits,
        upload=upload,
        binding_label=lambda text: binding_label(text, unit_names),
    ), status


def _render_deploy(
    form: DeployForm, preview: CircuitPreview, chosen: dict[int, str], status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/circuit_deploy.html",
        form=form,
        preview=preview,
        lanes=_lane_choices(preview, chosen),
    ), status


@bp.get("/circuits")
def circuits() -> ResponseReturnValue:
    return _render_overview(UploadForm(formdata=None))


@bp.post("/circuits/preview")
def circuit_preview() -> ResponseReturnValue:
    actor = current_actor()
    require_admin(actor)
    upload = UploadForm()
    if not upload.validate_on_submit():
        return _render_overview(upload, 400)
    try:
        bpmn = _read_upload(upload.file.data)
        preview = container().circuits.preview(actor, bpmn)
        form = DeployForm(formdata=None, payload=_pack(bpmn))
    except GedError as exc:
        if exc.status == 403:
            raise
        flash(translate(exc.message), "danger")
        return _render_overview(upload, 400)
    return _render_deploy(form, preview, {})


@bp.post("/circuits/deploy")
def circuit_deploy() -> ResponseReturnValue:
    actor = current_actor()
    require_admin(actor)
    form = DeployForm()
    if not form.validate_on_submit():
        flash(_("Le fichier à déployer manque : recommencez le dépôt."), "danger")
        return _render_overview(UploadForm(formdata=None), 400)
    circuits = container().circuits
    try:
        bpmn = _unpack(form.payload.data or "")
        preview = circuits.preview(actor, bpmn)
    except GedError as exc:
        if exc.status == 403:
            raise
        flash(translate(exc.message), "danger")
        return _render_overview(UploadForm(formdata=None), 400)
    chosen = {
        index: (request.form.get(f"binding-{index}") or "").strip()[:200]
        for index in range(len(preview.lanes))
    }
    try:
        bindings = {
            lane.name: Binding.parse(chosen[index])
            for index, lane in enumerate(preview.lanes)
            if chosen[index]
        }
        deployment = circuits.deploy(actor, bpmn, bindings, keep_previous=False)
    except GedError as exc:
        if exc.status == 403:
            raise
        flash(translate(exc.message), "danger")
        return _render_deploy(form, preview, chosen, 400)
    if deployment.created:
        flash(
            _(
                "Circuit %(process)s : version %(version)s déployée. "
                "Les instances en cours gardent leur version.",
                process=deployment.process_id,
                version=deployment.version,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Circuit %(process)s : la version %(version)s est déjà ce "
                "fichier avec ces affectations ; rien n'a changé.",
                process=deployment.process_id,
                version=deployment.version,
            ),
            "info",
        )
    return redirect(url_for("admin.circuits"), 303)


# -- Public holidays -------------------------------------------------------------------------


def fr_day(day: dt.date) -> str:
    if current_language() != "fr":
        return babel_dates.format_date(day, "full", locale=babel_locale())
    return f"{WEEKDAYS[day.weekday()]} {french_long_date(day)}"


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise NotFound(N_("Jour férié introuvable.")) from None


def _year_arg() -> int:
    value = request.args.get("year", "")
    return int(value) if value.isdigit() and len(value) == 4 else container().tasks.today().year


def _render_holidays(form: HolidayForm, year: int, status: int = 200) -> ResponseReturnValue:
    calendar = container().calendar.year(current_actor(), year)
    return render_template(
        "admin/holidays.html",
        calendar=calendar,
        form=form,
        fr_day=fr_day,
        weekend=format_list(
            [babel_dates.get_day_names("wide", locale=babel_locale())[d] for d in calendar.weekend],
            locale=babel_locale(),
        ),
        # The years that have holidays, and the one on either side of this one.
        nav_years=sorted(
            y for y in {*calendar.years, year - 1, year + 1} if FIRST_YEAR <= y <= LAST_YEAR
        ),
    ), status


@bp.get("/holidays")
def holidays() -> ResponseReturnValue:
    return _render_holidays(HolidayForm(formdata=None), _year_arg())


@bp.post("/holidays")
def holiday_add() -> ResponseReturnValue:
    actor = current_actor()
    require_admin(actor)
    form = HolidayForm()
    year = _year_arg()
    if not form.validate_on_submit() or form.day.data is None:
        return _render_holidays(form, year, 400)
    day: dt.date = form.day.data
    try:
        container().calendar.add(actor, day, form.name.data or "")
    except GedError as exc:
        if exc.status == 403:
            raise
        flash(translate(exc.message), "danger")
        return _render_holidays(form, year, 400)
    flash(_("Jour férié ajouté : %(day)s.", day=fr_day(day)), "success")
    return redirect(url_for("admin.holidays", year=day.year), 303)


@bp.route("/holidays/<day_text>", methods=["GET", "POST"])
def holiday_edit(day_text: str) -> ResponseReturnValue:
    day = _day(day_text)
    actor = current_actor()
    require_admin(actor)
    calendar = container().calendar
    holiday = calendar.holiday(actor, day)
    if request.method == "GET":
        form = HolidayForm(formdata=None, day=holiday.day, name=holiday.name)
    else:
        form = HolidayForm()
    status = 200
    if form.validate_on_submit() and form.day.data is not None:
        new_day: dt.date = form.day.data
        try:
            changed = calendar.update(actor, day, new_day, form.name.data or "")
        except GedError as exc:
            if exc.status == 403:
                raise
            flash(translate(exc.message), "danger")
            status = 400
        else:
            flash(_("Jour férié modifié.") if changed else _("Aucune modification."), "success")
            return redirect(url_for("admin.holidays", year=new_day.year), 303)
    elif request.method == "POST":
        status = 400
    return render_template(
        "admin/holiday_form.html", form=form, holiday=holiday, fr_day=fr_day
    ), status


@bp.post("/holidays/<day_text>/delete")
def holiday_delete(day_text: str) -> ResponseReturnValue:
    day = _day(day_text)
    actor = current_actor()
    container().calendar.remove(actor, day)
    flash(_("Jour férié retiré : %(day)s.", day=fr_day(day)), "success")
    return redirect(url_for("admin.holidays", year=day.year), 303)
