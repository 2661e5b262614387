"""What a process carries for the PDFs (decision 0040), each checked in a fresh interpreter
(in the suite's own process other tests have imported everything):

- WeasyPrint and pyHanko are imported by the first render or signature, not by loading the
  project: a web worker (the app with every URL, as gunicorn loads it) or a management
  command that never renders or signs does not carry them (~60 MB of a process);
- a process that rendered leaves no copy of the fonts behind when it exits (WeasyPrint keeps
  them in a temporary folder of its own, ~14 MB; the worker exits every --max-tasks tasks).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

HEAVY = ("pyhanko", "weasyprint")

LOAD_THE_APP = """
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view, as a web worker serves them
from esure.wsgi import application
"""

RENDER = """
import django
django.setup()
from certificates import pdf
folder = str(pdf._renderer()[1]._folder)  # the fonts and stylesheets of the first render
"""

REPORT = """
import json, sys
print(json.dumps({{
    "heavy": sorted(name for name in {heavy!r} if name in sys.modules),
    "folder": globals().get("folder"),
}}))
"""


def run(code):
    # The suite's settings and environment (DATABASE_URL, secrets); no connection is opened.
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "esure.settings"}
    result = subprocess.run(  # noqa: S603 — our own interpreter, fixed code
        [sys.executable, "-c", code + REPORT.format(heavy=HEAVY)],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_loading_the_app_with_every_url_imports_neither_weasyprint_nor_pyhanko():
    assert run(LOAD_THE_APP)["heavy"] == []


def test_the_first_render_imports_weasyprint_and_the_exit_removes_its_font_folder():
    found = run(RENDER)
    assert found["heavy"] == ["weasyprint"]
    assert "weasyprint-" in found["folder"]
    assert not Path(found["folder"]).exists()
