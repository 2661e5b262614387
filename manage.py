#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esure.settings")
    if sys.argv[1:2] == ["worker"]:
        # The task worker's admin imports no app's admin.py (settings.ESURE_TASK_WORKER,
        # decision 0050): decided here, before django.setup() reads the settings.
        os.environ["ESURE_TASK_WORKER"] = "true"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
