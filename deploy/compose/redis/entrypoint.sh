#!/bin/sh
# Starts Redis with an ACL user for the gateway. The password comes from REDIS_PASSWORD and goes into
# an ACL file readable by the redis user only — never onto the command line, where `ps` would show it.
#
#   user default off          no unauthenticated access, no shared "default" password
#   user bulwark …            the gateway: its key prefix (`bulwark:`) and revocation channel only,
#                             every command but the dangerous and administrative ones (FLUSHALL,
#                             KEYS, CONFIG, DEBUG, SHUTDOWN, ACL …); INFO back for the client's ready check
#
# Extra arguments are passed to redis-server.
set -eu
: "${REDIS_PASSWORD:?REDIS_PASSWORD is required (generate one: openssl rand -hex 32)}"
case "$REDIS_PASSWORD" in
  *[!A-Za-z0-9_-]*) echo "REDIS_PASSWORD must be URL-safe (letters, digits, - and _) because it is part of REDIS_URL" >&2; exit 1 ;;
esac
if [ "${#REDIS_PASSWORD}" -lt 32 ]; then
  echo "REDIS_PASSWORD must be at least 32 characters (openssl rand -hex 32)" >&2
  exit 1
fi
acl="${REDIS_ACL_FILE:-/tmp/bulwark-users.acl}"
umask 077
printf '%s\n' \
  'user default off' \
  "user bulwark on >${REDIS_PASSWORD} ~bulwark:* &bulwark:* +@all -@dangerous -@admin +info" \
  > "$acl"
exec redis-server --aclfile "$acl" "$@"
