"""Managers' dashboards: overdue tasks, deadline compliance, mail volumes; lists and CSV behind.

Views parse the period and filters, call the dashboards service (which decides who sees which
units, and refuses everyone else), and render. Every figure links to the list it counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from babel.numbers import format_decimal
from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.exceptions import NotFound

from ged.domain.errors import ValidationError
from ged.services.dashboards import (
    AgeBucket,
    ComplianceRow,
    Overview,
    Period,
    TaskList,
    TaskQuery,
    WeekVolume,
)
from web.dashboard import charts
from web.extensions import container
from web.i18n import N_, babel_locale, format_day, mail_type_name, translate, unit_label
from web.mail import labels
from web.mail.exports import content_disposition, neutralise_formula
from web.users import current_actor

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page needs a login; the service decides who has a dashboard."""


@bp.context_processor
def _helpers() -> dict[str, Any]:
    zone = container().settings.timezone
    return {"fr_datetime": lambda moment: labels.fr_datetime(moment, zone)}


@dataclass(frozen=True)
class Table:
    """A figure as a table: what the page shows under its chart and what the CSV holds."""

    name: str
    title: str
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    links: tuple[str, ...]  # the list behind each row


# --- input ------------------------------------------------------------------------------------


def _date(name: str) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            _("La date « %(value)s » n'est pas valide (AAAA-MM-JJ).", value=raw[:20]), name
        ) from None


def _period() -> Period:
    dashboards = container().dashboards
    default = dashboards.default_period()
    start = _date("from") or default.start
    end = _date("to") or default.end
    return dashboards.check_period(start, end)


def _int(name: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationError(_("« %(name)s » doit être un nombre.", name=name), name)
    return int(raw)


def _period_args(period: Period) -> dict[str, Any]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


# --- the figures as tables --------------------------------------------------------------------


def _percent(rate: float | None) -> str:
    if rate is None:
        return "—"
    return format_decimal(rate, "0.0", locale=babel_locale()) + " %"


def _overdue_tables(overview: Overview) -> list[Table]:
    def link(**args: Any) -> str:
        return url_for("dashboard.tasks", list=TaskList.OVERDUE.value, **args)

    return [
        Table(
            "overdue-units",
            _("Tâches en retard par entité"),
            (_("Entité"), _("Tâches en retard")),
            tuple((row.label, str(row.count)) for row in overview.by_unit),
            tuple(link(unit=row.key) for row in overview.by_unit),
        ),
        Table(
            "overdue-steps",
            _("Tâches en retard par étape de circuit"),
            (_("Étape (circuit)"), _("Tâches en retard")),
            tuple((row.label, str(row.count)) for row in overview.by_step),
            tuple(link(step=row.key) for row in overview.by_step),
        ),
        Table(
            "overdue-ages",
            _("Tâches en retard par ancienneté du retard"),
            (_("Retard"), _("Tâches en retard")),
            tuple((translate(row.label), str(row.count)) for row in overview.by_age),
            tuple(link(age=row.key) for row in overview.by_age),
        ),
    ]


def _compliance_table(
    name: str, title: str, first: str, key: str, rows: Sequence[ComplianceRow], period: Period
) -> Table:
    return Table(
        name,
        title,
        (
            first,
            _("Dans les délais"),
            _("En retard"),
            _("Échues non traitées"),
            _("Total"),
            _("Respect (%)"),
        ),
        tuple(
            (
                row.label,
                str(row.on_time),
                str(row.late),
                str(row.open_late),
                str(row.total),
                _percent(row.rate),
            )
            for row in rows
        ),
        tuple(_list_link(TaskList.LATE, key, row.key, period) for row in rows),
    )


def _list_link(kind: TaskList, key: str, value: str, period: Period) -> str:
    args: dict[str, Any] = {"list": kind.value, key: value, **_period_args(period)}
    return url_for("dashboard.tasks", **args)


def _volume_link(direction: str, week: WeekVolume, root: int | None) -> str:
    args: dict[str, Any] = {
        "direction": direction,
        "from": week.monday.isoformat(),
        "to": week.sunday.isoformat(),
    }
    if root is not None:
        args["unit"] = root
    return url_for("mail.index", **args)


def _volume_table(volumes: Sequence[WeekVolume], root: int | None) -> Table:
    return Table(
        "volumes",
        _("Courriers par semaine"),
        (_("Semaine du"), _("Arrivée"), _("Départ"), _("Interne")),
        tuple(
            (
                format_day(week.monday),
                str(week.incoming),
                str(week.outgoing),
                str(week.internal),
            )
            for week in volumes
        ),
        tuple(_volume_link("incoming", week, root) for week in volumes),
    )


def _named_overview(overview: Overview) -> Overview:
    """The rows' units and circuit steps named in the page's language."""
    return replace(
        overview,
        scope_label=translate(overview.scope_label),
        by_unit=tuple(
            replace(row, label=unit_label(row.key, row.label)) for row in overview.by_unit
        ),
        by_step=tuple(replace(row, label=_step_label(row.label)) for row in overview.by_step),
    )


def _step_label(label: str) -> str:
    """``Step (Circuit)``, both names from the circuit, each translated."""
    step, bracket, circuit = label.rpartition(" (")
    if not bracket or not circuit.endswith(")"):
        return translate(label)
    return f"{translate(step)} ({translate(circuit[:-1])})"


def _tables(period: Period) -> tuple[list[Table], dict[str, Any]]:
    """Every table of the page, and the raw figures the charts are drawn from."""
    dashboards = container().dashboards
    actor = current_actor()
    overview = _named_overview(dashboards.overview(actor))
    by_unit = tuple(
        replace(row, label=unit_label(row.key, row.label))
        for row in dashboards.compliance_by_unit(actor, period)
    )
    by_type = tuple(
        replace(row, label=mail_type_name(row.key, row.label))
        for row in dashboards.compliance_by_mail_type(actor, period)
    )
    volumes = dashboards.volumes(actor, period)
    root = dashboards.scope_root(actor)
    tables = [
        *_overdue_tables(overview),
        _compliance_table(
            "compliance-units",
            _("Respect des délais par entité"),
            _("Entité"),
            "unit",
            by_unit,
            period,
        ),
        _compliance_table(
            "compliance-types",
            _("Respect des délais par type de courrier"),
            _("Type de courrier"),
            "type",
            by_type,
            period,
        ),
        _volume_table(volumes, root),
    ]
    return tables, {
        "overview": overview,
        "by_unit": by_unit,
        "by_type": by_type,
        "volumes": volumes,
        "root": root,
    }


# --- charts -----------------------------------------------------------------------------------


def _count_chart(chart_id: str, title: str, table: Table) -> charts.HorizontalChart:
    items = [
        charts.Item(row[0], [(int(row[1]), "bar-late", href, f"{row[0]} : {row[1]}")])
        for row, href in zip(table.rows, table.links, strict=True)
    ]
    return charts.horizontal(
        chart_id, title, _("Chaque barre mène à la liste des tâches qu'elle compte."), items
    )


def _compliance_chart(
    chart_id: str, title: str, key: str, rows: Sequence[ComplianceRow], period: Period
) -> charts.HorizontalChart:
    def link(kind: TaskList, row: ComplianceRow) -> str:
        return _list_link(kind, key, row.key, period)

    items = [
        charts.Item(
            f"{row.label} — {_percent(row.rate)}",
            [
                (
                    row.on_time,
                    "bar-ok",
                    link(TaskList.ON_TIME, row),
                    _("%(label)s : %(count)s dans les délais", label=row.label, count=row.on_time),
                ),
                (
                    row.late,
                    "bar-late",
                    link(TaskList.LATE, row),
                    _("%(label)s : %(count)s en retard", label=row.label, count=row.late),
                ),
                (
                    row.open_late,
                    "bar-open",
                    link(TaskList.OPEN_LATE, row),
                    _(
                        "%(label)s : %(count)s échues non traitées",
                        label=row.label,
                        count=row.open_late,
                    ),
                ),
            ],
        )
        for row in rows
    ]
    return charts.horizontal(
        chart_id,
        title,
        _(
            "Barres empilées : dans les délais, en retard, échues non traitées ; chaque partie mène à sa liste."
        ),
        items,
    )


def _volume_chart(volumes: Sequence[WeekVolume], root: int | None) -> charts.ColumnChart:
    groups = []
    for week in volumes:
        label = f"{week.monday:%d/%m}"
        groups.append(
            (
                label,
                [
                    (
                        week.incoming,
                        "bar-in",
                        _volume_link("incoming", week, root),
                        _(
                            "Semaine du %(day)s : %(count)s à l'arrivée",
                            day=format_day(week.monday),
                            count=week.incoming,
                        ),
                    ),
                    (
                        week.outgoing,
                        "bar-out",
                        _volume_link("outgoing", week, root),
                        _(
                            "Semaine du %(day)s : %(count)s au départ",
                            day=format_day(week.monday),
                            count=week.outgoing,
                        ),
                    ),
                ],
            )
        )
    return charts.columns(
        "chart-volumes",
        _("Courriers à l'arrivée et au départ, par semaine"),
        _("Chaque colonne mène à la liste des courriers de la semaine."),
        groups,
        (("bar-in", _("Arrivée")), ("bar-out", _("Départ"))),
    )


# --- pages ------------------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    period = _period()
    tables, figures = _tables(period)
    named = {table.name: table for table in tables}
    overview: Overview = figures["overview"]
    return render_template(
        "dashboard/index.html",
        period=period,
        overview=overview,
        tables=tables,
        chart_units=_count_chart(
            "chart-overdue-units", named["overdue-units"].title, named["overdue-units"]
        ),
        chart_steps=_count_chart(
            "chart-overdue-steps", named["overdue-steps"].title, named["overdue-steps"]
        ),
        chart_ages=_count_chart(
            "chart-overdue-ages", named["overdue-ages"].title, named["overdue-ages"]
        ),
        chart_compliance_units=_compliance_chart(
            "chart-compliance-units",
            named["compliance-units"].title,
            "unit",
            figures["by_unit"],
            period,
        ),
        chart_compliance_types=_compliance_chart(
            "chart-compliance-types",
            named["compliance-types"].title,
            "type",
            figures["by_type"],
            period,
        ),
        chart_volumes=_volume_chart(figures["volumes"], figures["root"]),
        period_args=_period_args(period),
    )


@bp.get("/<name>.csv")
def export(name: str) -> ResponseReturnValue:
    period = _period()
    tables, _figures = _tables(period)
    table = next((t for t in tables if t.name == name), None)
    if table is None:
        raise NotFound()
    buffer = io.StringIO()
    # As the register export: semicolons, a byte order mark and CRLF, for French Excel.
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headings)
    for row in table.rows:
        writer.writerow([neutralise_formula(cell) for cell in row])
    filename = f"ged-{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": content_disposition("attachment", filename)},
    )


@bp.get("/tasks")
def tasks() -> ResponseReturnValue:
    raw_list = request.args.get("list") or TaskList.OVERDUE.value
    try:
        kind = TaskList(raw_list)
    except ValueError:
        raise ValidationError(N_("Liste inconnue."), "list") from None
    raw_age = _int("age")
    try:
        age = AgeBucket(raw_age) if raw_age is not None else None
    except ValueError:
        raise ValidationError(N_("Tranche de retard inconnue."), "age") from None
    period = _period() if kind is not TaskList.OVERDUE else None
    query = TaskQuery(
        list=kind,
        unit_id=_int("unit"),
        step=(request.args.get("step") or "")[:130],
        age=age,
        mail_type_id=_int("type"),
        period=period,
        page=_int("page") or 1,
    )
    lines = container().dashboards.tasks(current_actor(), query)
    kept = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template(
        "dashboard/tasks.html",
        kind=kind,
        query=query,
        lines=lines,
        kept=kept,
        age_label=age.label if age else "",
    )
