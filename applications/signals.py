"""The workflow's one extension point (decision 0041): `closed`, sent by services._transition
inside its transaction when an application is withdrawn (取下げ) or declined (謝絶).

A 契約保証予約 turned into an application (reservations.services.use_reservation) must be given
back when that application ends without a guarantee — but `applications` may not import
`reservations` (reservations depends on the workflow: decision 0034, tests/test_import_rule.py).
So reservations connects a receiver here (reservations.apps), as advances does to the
registry's `completed` (decision 0026). Sent with `send`, not `send_robust`: a receiver that
fails rolls the withdrawal or the decline back with it.
"""

from django.dispatch import Signal

# Keyword arguments: application (withdrawn or declined, locked), by (the user).
closed = Signal()
