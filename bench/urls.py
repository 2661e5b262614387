"""The bench's URLconf: every route of the product (esure.urls, matched first and unchanged)
plus the floor views under /bench-floor/ (bench/floors.py). Selected only by bench/wsgi.py."""

from django.urls import include, path

from bench import floors
from esure.urls import urlpatterns as product

floor_patterns = (
    [
        path("dsure/", floors.lookup, name="lookup"),
        path("dsure/<number:number>/", floors.viewer, name="viewer"),
        path("dsure/<number:number>/v<id:version>.pdf", floors.document, name="document"),
        path("certificates/", floors.guarantees, name="guarantees"),
        path("applications/", floors.applications, name="applications"),
    ],
    "bench_floors",
)

urlpatterns = [*product, path("bench-floor/", include(floor_patterns))]
