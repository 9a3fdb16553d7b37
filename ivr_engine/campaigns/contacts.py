"""Reading a campaign's contacts CSV: one contact per row, bad rows reported and skipped.

The file needs a `phone` column in E.164; a `timezone` column (IANA name) sets the contact's
own calling window; every other column is a contact field the flow reads as `contact.<name>`.
A row with a bad phone, a missing value for a field the flow needs, an unknown timezone or a
number already seen is reported with its line number and left out: the rest still run.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..messaging.addresses import is_e164
from ..semantics import valid_timezone
from ..wording import choices, quote

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ContactRow:
    line: int
    phone: str
    fields: dict[str, Any]
    timezone: str = ""


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "problem": self.message}


@dataclass
class ContactList:
    contacts: list[ContactRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    fatal: str | None = None  # the file cannot be used at all (no phone column, not CSV)


def read_contacts(text: str, required: Sequence[str] = ()) -> ContactList:
    """Every usable contact of a CSV text; `required` are the fields the flow reads."""
    found = ContactList()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        found.fatal = "the contacts file is empty: its first line must name the columns"
        return found
    except csv.Error as exc:
        found.fatal = f"line 1: not CSV ({exc})"
        return found
    if "phone" not in header:
        found.fatal = (
            f"line 1: there is no {quote('phone')} column (the columns are "
            f"{choices(quote(h) for h in header) if header else 'none'}): name the column of "
            "E.164 numbers phone"
        )
        return found
    bad = [name for name in header if not IDENTIFIER.match(name)]
    if bad:
        found.fatal = (
            f"line 1: column {quote(bad[0])} cannot be read as contact.{bad[0]}: use letters, "
            "digits and _ only"
        )
        return found
    missing_columns = [name for name in required if name not in header]
    if missing_columns:
        found.fatal = (
            f"line 1: there is no column {choices(quote(n) for n in missing_columns)}, which "
            "the flow reads as " + choices(f"contact.{n}" for n in missing_columns)
        )
        return found
    seen: dict[str, int] = {}
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            found.problems.append(RowProblem(reader.line_num, f"not CSV ({exc}): skipped"))
            continue
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue  # blank lines are not contacts
        problem = _problem(header, values, required, seen)
        if problem is not None:
            found.problems.append(RowProblem(line, problem + ": skipped"))
            continue
        row = dict(zip(header, (value.strip() for value in values), strict=True))
        phone = row.pop("phone")
        timezone = row.pop("timezone", "")
        seen[phone] = line
        found.contacts.append(ContactRow(line, phone, row, timezone))
    return found


def _problem(
    header: list[str],
    values: list[str],
    required: Sequence[str],
    seen: dict[str, int],
) -> str | None:
    if len(values) != len(header):
        return f"{len(values)} value(s) where the header names {len(header)} column(s)"
    row = dict(zip(header, (value.strip() for value in values), strict=True))
    phone = row["phone"]
    if not is_e164(phone):
        return (
            f"phone {quote(phone)} is not an E.164 number: write it with + and the country "
            'code, e.g. "+15551234567"'
        )
    if phone in seen:
        return f"{phone} is already the contact on line {seen[phone]}"
    empty = [name for name in required if not row.get(name)]
    if empty:
        return f"no value for {choices(quote(n) for n in empty)}, which the flow reads"
    timezone = row.get("timezone", "")
    if timezone and not valid_timezone(timezone):
        return f"timezone {quote(timezone)} is not a known timezone (e.g. America/New_York)"
    return None
