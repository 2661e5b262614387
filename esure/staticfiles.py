"""Static files as whitenoise serves them — hashed names from collectstatic's manifest,
compressed copies — with each file's URL worked out once per process (decision 0043).

STORAGES["staticfiles"] when DEBUG is off (esure/settings.py). The manifest is read once, when
the storage is made, so `{% static 'css/esure.css' %}` gives the same URL until the process
restarts; the D-Sure viewer names six static files a page.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    # The URLs kept: every static file a template names, with room to spare.
    MAX_URLS = 1000

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls = {}

    def url(self, name, force=False):
        if force:  # collectstatic's own use, while the manifest is being written
            return super().url(name, force=True)
        url = self._urls.get(name)
        if url is None:
            url = super().url(name)
            if len(self._urls) < self.MAX_URLS:
                self._urls[name] = url
        return url
