"""Administration pages: the org chart and the user accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from ged.domain.errors import GedError
from ged.services.admin import UnitData, UserData, require_admin
from web.extensions import container
from web.forms import UnitForm, UserForm, optional_id
from web.i18n import local_name, translate
from web.users import current_actor

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a login; the services decide who may read or change what."""


def _unit_choices(exclude: int | None = None) -> list[tuple[str, str]]:
    nodes = container().admin.unit_tree(current_actor())
    return [("", "—")] + [
        (str(n.unit.id), f"{'— ' * n.depth}{n.unit.code} · {local_name(n.unit)}")
        for n in nodes
        if n.unit.id != exclude
    ]


def _manager_choices() -> list[tuple[str, str]]:
    users = container().admin.list_users(current_actor())
    return [("", "—")] + [(str(u.id), f"{u.full_name} ({u.username})") for u in users if u.active]


@bp.get("/units")
def units() -> ResponseReturnValue:
    return render_template("admin/units.html", nodes=container().admin.unit_tree(current_actor()))


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def unit_form(unit_id: int | None = None) -> ResponseReturnValue:
    admin = container().admin
    actor = current_actor()
    require_admin(actor)  # a form is for changing: auditors read the list, not the form
    unit = admin.get_unit(actor, unit_id) if unit_id is not None else None
    form = UnitForm(obj=unit) if request.method == "GET" else UnitForm()
    form.parent_id.choices = _unit_choices(exclude=unit_id)
    form.manager_id.choices = _manager_choices()
    if unit is not None and request.method == "GET":
        form.parent_id.data = str(unit.parent_id or "")
        form.manager_id.data = str(unit.manager_id or "")
    if form.validate_on_submit():
        data = UnitData(
            code=form.code.data or "",
            name=form.name.data or "",
            name_ar=form.name_ar.data or "",
            parent_id=optional_id(form.parent_id.data),
            manager_id=optional_id(form.manager_id.data),
            active=bool(form.active.data),
        )
        try:
            if unit_id is None:
                admin.create_unit(actor, data)
            else:
                admin.update_unit(actor, unit_id, data)
        except GedError as exc:
            if exc.status == 403:
                raise
            flash(translate(exc.message), "danger")
            return render_template("admin/unit_form.html", form=form, unit=unit), 400
        flash(_("Entité enregistrée."), "success")
        return redirect(url_for("admin.units"), 303)
    status = 400 if form.errors else 200
    return render_template("admin/unit_form.html", form=form, unit=unit), status


@bp.get("/users")
def users() -> ResponseReturnValue:
    return render_template("admin/users.html", users=container().admin.list_users(current_actor()))


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_form(user_id: int | None = None) -> ResponseReturnValue:
    admin = container().admin
    actor = current_actor()
    require_admin(actor)
    user = admin.get_user(actor, user_id) if user_id is not None else None
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    form.unit_id.choices = _unit_choices()
    if user is not None and request.method == "GET":
        form.unit_id.data = str(user.unit_id or "")
    if user is not None:
        form.username.data = user.username  # fixed once created; a posted value is ignored
    if form.validate_on_submit():
        data = UserData(
            username=form.username.data or "",
            full_name=form.full_name.data or "",
            role=form.role.data or "",
            unit_id=optional_id(form.unit_id.data),
            email=form.email.data or "",
            locale=form.locale.data or "fr",
            active=bool(form.active.data),
        )
        try:
            if user_id is None:
                admin.create_user(actor, data, form.password.data or "")
            else:
                admin.update_user(actor, user_id, data, new_password=form.password.data or "")
        except GedError as exc:
            if exc.status == 403:
                raise
            flash(translate(exc.message), "danger")
            return render_template("admin/user_form.html", form=form, user=user), 400
        flash(_("Utilisateur enregistré."), "success")
        return redirect(url_for("admin.users"), 303)
    status = 400 if form.errors else 200
    return render_template("admin/user_form.html", form=form, user=user), status


# Registered on this blueprint by importing them; kept apart for length.
from web.admin import circuits as _circuits  # noqa: E402, F401
