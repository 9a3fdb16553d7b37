"""Importing Twilio Studio flows: a Studio JSON export -> one checked YAML flow and a report.

The pipeline, one module per step: `reader` (JSON text -> `StudioFlow`), `liquid` (Liquid ->
Jinja2), `widgets` (each widget -> engine nodes), `report` (what was mapped, what was not,
and what Studio let through), `writer` (nodes -> commented YAML), `testgen` (a flow test file
with one case per path). `importer.import_studio` runs them in that order.
"""

from .importer import ImportResult, import_studio
from .reader import StudioError, StudioFlow, read_studio

__all__ = ["ImportResult", "StudioError", "StudioFlow", "import_studio", "read_studio"]
