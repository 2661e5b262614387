"""Database sessions, minus one query per new session.

Django's database store asks `SELECT … WHERE session_key = %s` before it uses a new random
key, then INSERTs it with must_create=True — which already fails on a duplicate key and draws
another (SessionStore.create catches CreateError). The question costs a round trip on every
D-Sure lookup that opens a viewer session and can never be answered "yes" in practice:
32 characters of [a-z0-9] are 165 bits. SESSION_ENGINE points here.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)
