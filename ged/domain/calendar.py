"""Working days: deadlines count neither weekends nor public holidays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

SATURDAY, SUNDAY = 5, 6
FRENCH_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_long_date(day: dt.date) -> str:
    """« 9 mars 2026 », as letters and registers write it (no locale data needed)."""
    return f"{day.day} {FRENCH_MONTHS[day.month - 1]} {day.year}"


# Moroccan public holidays. Religious holidays follow the lunar calendar and are announced a
# few days ahead: these dates are the expected ones; administrators correct them when announced.
MOROCCAN_HOLIDAYS: dict[dt.date, str] = {}
for _year in (2026, 2027):
    for _month, _day, _name in (
        (1, 1, "Nouvel an"),
        (1, 11, "Manifeste de l'indépendance"),
        (1, 14, "Nouvel an amazigh"),
        (5, 1, "Fête du travail"),
        (7, 30, "Fête du trône"),
        (8, 14, "Allégeance Oued Eddahab"),
        (8, 20, "Révolution du roi et du peuple"),
        (8, 21, "Fête de la jeunesse"),
        (11, 6, "Marche verte"),
        (11, 18, "Fête de l'indépendance"),
    ):
        MOROCCAN_HOLIDAYS[dt.date(_year, _month, _day)] = _name
for _date, _name in (
    ("2026-03-20", "Aïd al-Fitr"),
    ("2026-03-21", "Aïd al-Fitr"),
    ("2026-05-27", "Aïd al-Adha"),
    ("2026-05-28", "Aïd al-Adha"),
    ("2026-06-16", "Nouvel an de l'Hégire"),
    ("2026-08-25", "Aïd al-Mawlid"),
    ("2026-08-26", "Aïd al-Mawlid"),
    ("2027-03-10", "Aïd al-Fitr"),
    ("2027-03-11", "Aïd al-Fitr"),
    ("2027-05-17", "Aïd al-Adha"),
    ("2027-05-18", "Aïd al-Adha"),
    ("2027-06-06", "Nouvel an de l'Hégire"),
    ("2027-08-15", "Aïd al-Mawlid"),
    ("2027-08-16", "Aïd al-Mawlid"),
):
    MOROCCAN_HOLIDAYS[dt.date.fromisoformat(_date)] = _name


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})

    @classmethod
    def with_holidays(cls, days: Iterable[dt.date]) -> WorkingCalendar:
        return cls(holidays=frozenset(days))

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("a delay cannot be negative")
        current = start
        remaining = days
        while remaining:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
        sign = 1 if end >= start else -1
        low, high = sorted((start, end))
        count = 0
        current = low
        while current < high:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return sign * count
