#!/bin/sh
# Prints the path of a Python >= 3.12 (Django 6.1 needs it). This image's default python3 is 3.11,
# and pip would then silently offer Django 5.2, so we look for 3.13/3.12 explicitly:
# first on PATH (Debian 13 ships python3.13), then in pyenv's installed versions.
ok() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
for name in python3.13 python3.12; do
    p=$(command -v "$name" 2>/dev/null) && ok "$p" && { echo "$p"; exit 0; }
done
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for v in 3.13 3.12; do
    for d in $(ls -d "$root"/versions/"$v"* 2>/dev/null | sort -rV); do
        ok "$d/bin/python" && { echo "$d/bin/python"; exit 0; }
    done
done
echo "esure needs Python 3.12 or newer (Django 6.1). Install python3.13 (Debian 13) or 'pyenv install 3.13'." >&2
exit 1
