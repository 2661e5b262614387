"""The registry's one extension point (decision 0026): `completed`, sent by
services.record_completion inside its transaction.

The registry must not import the apps above it (DESIGN.md §8), and the pages that record 完成
(D-Sure's office page, the registry's admin) must not import the money flow (advances) either
— yet a completion has to release the work's designated account (指定解除) whoever records it.
So advances connects a receiver here (advances.apps). It is sent with `send`, not
`send_robust`: a receiver that fails rolls the completion back with it.
"""

from django.dispatch import Signal

# Keyword arguments: guarantee (completed, locked), completed_on (date), by (the user).
completed = Signal()
