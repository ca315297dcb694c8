#!/bin/sh
# Starts Redis for framecast, the same way under docker-compose and Kubernetes (the compose file
# mounts this file; kustomize puts it in a ConfigMap):
#
# - persistence: AOF (appendfsync everysec, at most ~1 s of writes lost) on the data volume; with
#   the data gone every room would turn private and every agent key would be lost (see the README,
#   "Privacy model");
# - users in an ACL file on the data volume, so that agent users added with the registry's
#   `ACL SETUSER framecast-agent-<id> …` line followed by `ACL SAVE` survive restarts. The default
#   user (the gateways and the registry) gets REDIS_PASSWORD, written at every start as its SHA-256
#   (Redis' `#<hash>` form), so rotating the password is: change the secret, restart Redis and the
#   services. Other users in the file are kept as they are.
#
# Extra arguments go to redis-server (the Kubernetes manifest passes --maxmemory; tests pass
# --port/--bind). REDIS_DATA_DIR moves the data directory (default /data, the images' volume).
set -eu

: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set (the default user's password)}"
data=${REDIS_DATA_DIR:-/data}
acl="$data/users.acl"

hash=$(printf '%s' "$REDIS_PASSWORD" | sha256sum | cut -d ' ' -f 1)
touch "$acl"
# Rewritten through a temporary file in the same directory, then renamed: never half written.
{ grep -v '^user default ' "$acl" || true; echo "user default on #$hash ~* &* +@all"; } > "$acl.tmp"
mv "$acl.tmp" "$acl"

exec redis-server --dir "$data" --appendonly yes --appendfsync everysec --aclfile "$acl" "$@"
