"""The bench's WSGI application: esure's, with bench/urls.py as the URLconf (the product's
routes plus the floor views). The bench's gunicorn loads this with ops/gunicorn.conf.py, so
pages, floors and the ping share one middleware stack, one configuration, one process."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esure.settings")

from django.conf import settings

settings.ROOT_URLCONF = "bench.urls"

from esure.wsgi import application  # noqa: E402, F401 — the app gunicorn serves
