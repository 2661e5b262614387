"""A task worker gives the memory its task freed back to the system (issue 22).

Rendering a PDF allocates tens of MB in WeasyPrint's C libraries and in its font handling
(each document copies both IPAex fonts, 6–8 MB each, to subset them) and frees it when the
document is written; glibc's malloc keeps most of what was freed in its heap for the next
allocation, so a worker that has rendered once stays ~20 MB above what it uses between
tasks. `malloc_trim(0)` after each task returns those pages: 192 → 172 MB after the first
task, 197 → 182 MB after 100 PDFs (bench/memory.py, bench/README.md), for ~1–2 ms of CPU a
task (a task that renders takes ~250 ms). Outside glibc (musl, macOS) there is nothing to
trim and nothing is done.
"""

import ctypes
import functools


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim from the process's own C library, or None where there is none."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory(**kwargs):
    """Return the C heap's free pages to the system. Connected to django.tasks' task_finished
    (esure.apps): every task a worker runs, rendering or not, ends with it."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
