"""Home page: the person's tasks first, so their work is one click away."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from web.tasks import home_tasks
from web.users import current_actor

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    page, counts = home_tasks(current_actor())
    return render_template("main/home.html", tasks=page, counts=counts)
