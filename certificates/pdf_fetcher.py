"""The URL fetcher of the PDFs' renderer (certificates.pdf): the font files and data: URIs.

A module of its own because it subclasses WeasyPrint's fetcher: certificates.pdf imports it
when it first renders, so a process that never renders never loads WeasyPrint (decision 0040).
"""

from weasyprint.urls import FatalURLFetchingError, URLFetcher

from certificates.pdf import FONT_FILES

_FONT_URLS = {path.as_uri() for path in FONT_FILES.values()}


class LocalOnlyFetcher(URLFetcher):
    """Serves the font files and data: URIs; any other URL stops the rendering."""

    def __init__(self):
        super().__init__(allowed_protocols=("file", "data"), fail_on_errors=True)

    def fetch(self, url, headers=None):
        if url.startswith("data:") or url in _FONT_URLS:
            return super().fetch(url, headers)
        raise FatalURLFetchingError(f"a PDF may not load {url!r}: no external resources")
