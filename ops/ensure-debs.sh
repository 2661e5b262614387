#!/bin/sh
# Installs the Debian packages esure needs, only those missing; does nothing on a second run.
#   fonts-ipaexfont      IPAex明朝/ゴシック for certificates (DESIGN.md §7)
#   libharfbuzz-subset0  font subsetting; without it WeasyPrint renders ~6x slower, silently
#   poppler-utils        pdffonts/pdftotext for checking PDFs by hand
#   chromium             the real browser the e2e tests drive (never a downloaded one)
#   chromium-l10n        its Japanese locale: date inputs read 2024/10/01 as a clerk sees them
# With arguments, installs those packages instead (the Makefile asks for nodejs and npm when
# npm is missing: `make test` installs axe-core for the browser tests with it).
set -e
PKGS="fonts-ipaexfont libharfbuzz-subset0 poppler-utils chromium chromium-l10n"
[ $# -gt 0 ] && PKGS="$*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages:$missing — run as root or: sudo apt-get install$missing" >&2
    exit 1
fi
echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
