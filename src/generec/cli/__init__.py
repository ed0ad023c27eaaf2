"""The `generec` command line: parse, call the library, print. No model code here.

`common` holds the Typer apps and the shared helpers; importing the command modules registers their commands.
"""

from __future__ import annotations

import sys

from generec.cli.common import _report_error, app, bench_app, data_app, edit_app, evaluate_app

# importing a command module registers its commands; the order here is the order `--help` lists them in
# isort: off
from generec.cli import data  # noqa: F401
from generec.cli import retrieval  # noqa: F401
from generec.cli import editor  # noqa: F401
from generec.cli import instructor  # noqa: F401
from generec.cli import creator  # noqa: F401
from generec.cli import fidelity  # noqa: F401
from generec.cli import serving  # noqa: F401
from generec.cli import batch  # noqa: F401
# isort: on

__all__ = ["app", "bench_app", "data_app", "edit_app", "evaluate_app", "main"]


def main() -> None:
    try:
        app()
    except Exception as exc:  # anything outside a command (option parsing, callbacks)
        _report_error(exc)
        sys.exit(1)

