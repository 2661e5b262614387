"""One JSON object per log line (LOG_FORMAT=json, the default when DEBUG is off), the shape
of gunicorn's access log (ops/gunicorn.conf.py), so the log pipeline parses web and worker
processes alike. Only the record's message and exception: never its `args` or extras
beyond a status code and the client's address (esure.clientip), which may hold request
objects or task payloads.
"""

import datetime
import json
import logging

from esure.clientip import client_ip


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # django.request and django.server add the response's status code, and
        # django.request the request: its client's address (never the request itself).
        if isinstance(getattr(record, "status_code", None), int):
            line["status"] = record.status_code
        request = getattr(record, "request", None)
        if isinstance(getattr(request, "META", None), dict):
            line["client"] = client_ip(request)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes the newlines of a traceback: one record, one line.
        return json.dumps(line, ensure_ascii=False, default=str)
