#!/bin/sh
# Writes var/.env for the local demo (make run) if it does not exist yet: fresh random secrets,
# DEBUG on, mails printed to the terminal, staff MFA off. Never used in production.
set -e
[ -f var/.env ] && exit 0
mkdir -p var
PY=${1:-python3}
gen() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))'; }
cat > var/.env <<ENV
# Local demo settings written by 'make run' ($(date -u +%F)). Not for production.
DEBUG=true
SECRET_KEY=$(gen)
ESURE_AUTH_KEY_SECRET=$(gen)
# Staff MFA (TOTP) is turned OFF for the local demo only, so the demo staff login works at once.
# Production keeps the default (true): every staff user must set up TOTP before reaching admin.
ESURE_STAFF_MFA_REQUIRED=false
EMAIL_URL=consolemail://
# Webhooks to a receiver on this machine (http://127.0.0.1:…): demo only.
ESURE_WEBHOOK_ALLOW_LOOPBACK=true
ENV
echo "Wrote var/.env (local demo secrets; staff MFA off for the demo)"
