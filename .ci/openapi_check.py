#!/usr/bin/env python3
"""Validates the gateway's OpenAPI document against the OpenAPI 3.1 schema.

Fetches nothing: it reads the file named on the command line. The end-to-end test
`cargo test -p clmb-tests --test openapi` writes the document the gateway serves to
`target/openapi.json`, so CI runs, after the tests:

    python3 .ci/openapi_check.py target/openapi.json

It uses openapi-spec-validator (PyPI). When the running Python does not have it, the
script makes a venv under `.cache/openapi-check/` (git-ignored), installs the pinned
version there once, and runs itself again with that venv's Python.

Exit status: 0 when the document is valid, 1 when it is not (every error is printed),
2 on a usage or reading error.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

VALIDATOR_VERSION = "0.9.0"
ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "openapi-check" / "venv"


def ensure_validator() -> None:
    """Re-runs this script inside the venv when the validator is not importable here."""
    try:
        import openapi_spec_validator  # noqa: F401
        return
    except ImportError:
        pass
    python = VENV / "bin" / "python"
    # Inside the venv already (its python is a symlink, so compare prefixes, not paths).
    if Path(sys.prefix).resolve() == VENV.resolve():
        sys.exit("openapi_check: openapi-spec-validator is missing from its own venv")
    stamp = VENV / f".installed-{VALIDATOR_VERSION}"
    if not stamp.exists():
        print(f"openapi_check: installing openapi-spec-validator {VALIDATOR_VERSION}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"openapi-spec-validator=={VALIDATOR_VERSION}"],
            check=True,
        )
        stamp.touch()
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} path/to/openapi.json", file=sys.stderr)
        return 2
    path = Path(sys.argv[1])
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"openapi_check: cannot read {path}: {error}", file=sys.stderr)
        return 2

    ensure_validator()
    from openapi_spec_validator import OpenAPIV31SpecValidator

    version = str(document.get("openapi", ""))
    if not version.startswith("3.1"):
        print(f"openapi_check: {path} is OpenAPI {version!r}, not 3.1", file=sys.stderr)
        return 1
    errors = list(OpenAPIV31SpecValidator(document).iter_errors())
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        print(f"openapi_check: {where}: {error.message}", file=sys.stderr)
    if errors:
        print(f"openapi_check: {path}: {len(errors)} errors", file=sys.stderr)
        return 1
    print(f"openapi_check: {path} is a valid OpenAPI {version} document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
