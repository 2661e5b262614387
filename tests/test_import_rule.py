"""The layering of DESIGN.md §8, read from the source: the faces (the contractor's workflow
`applications`, its certificate pages `certs`, D-Sure `dsure`) never import each other, the
registry (`certificates`) imports no face, and `accounts` imports neither the registry nor a
face (the audit trail is below them all). Any import
counts — at module level or inside a function — since both make the arrow."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FACES = ("applications", "certs", "dsure", "advances", "reservations", "claims")
APPS = ("accounts", "certificates", "audit", *FACES)


def imported_apps(source):
    """The top-level packages a module's source imports (relative imports stay inside)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def arrows(app):
    """{(module path, imported app)} for every import of another esure app from `app`."""
    result = set()
    for path in sorted((ROOT / app).rglob("*.py")):
        for target in imported_apps(path.read_text(encoding="utf-8")) & set(APPS):
            if target != app:
                result.add((str(path.relative_to(ROOT)), target))
    return result


def forbidden(app, targets):
    return sorted((module, target) for module, target in arrows(app) if target in targets)


def test_the_reader_sees_every_kind_of_import():
    source = "import dsure\nfrom dsure.models import X\ndef f():\n    from dsure import y\n"
    assert imported_apps(source) == {"dsure"}
    assert imported_apps("from . import views\nfrom .x import y\n") == set()
    assert imported_apps("import applications.services as s\n") == {"applications"}


@pytest.mark.parametrize(
    "app, others",
    [
        # applications never imports reservations: reservations uses the workflow's rules
        # and services (decision 0034), not the reverse.
        ("applications", {"dsure", "certs", "reservations", "claims"}),
        ("dsure", {"applications", "certs", "advances", "reservations", "claims"}),
        ("certs", {"applications", "dsure", "advances", "reservations", "claims"}),
        ("reservations", {"dsure", "certs", "advances", "claims"}),
        # 保証金の請求 depends on the registry, accounts and the advances' file checks only.
        ("claims", {"applications", "dsure", "certs", "reservations"}),
    ],
)
def test_faces_never_import_each_other(app, others):
    assert forbidden(app, others) == []


def test_the_registry_imports_no_face():
    assert forbidden("certificates", set(FACES)) == []


def test_accounts_imports_neither_the_registry_nor_a_face():
    assert forbidden("accounts", {"certificates", *FACES}) == []


def test_nothing_imports_the_claims_app():
    # Only the URLconf, settings and the staff console (which reads every app) name it.
    for app in APPS:
        if app != "claims":
            assert forbidden(app, {"claims"}) == [], app
