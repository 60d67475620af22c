#!/usr/bin/env bash
# Python packages the tests use (moto server, pandas, pyarrow, Polars, openpyxl, PySpark, ruff). pip leaves
# satisfied pins alone without asking the index, so a second run takes seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v python3 >/dev/null || { echo "10-python: python3 not found (apt-get install python3 python3-pip)" >&2; exit 1; }
python3 -m pip --version >/dev/null 2>&1 || { echo "10-python: pip not found for python3 (apt-get install python3-pip)" >&2; exit 1; }

# A CI machine is disposable: install into the interpreter even where the distribution marks it
# externally managed (PEP 668). Older pips ignore the variable.
PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r "$root/requirements-test.txt"
python3 -m pip freeze --quiet 2>/dev/null | grep -iE '^(moto|pandas|pyarrow|polars|openpyxl|pyspark|ruff)==' | tr '\n' ' ' | sed 's/ $/\n/'
