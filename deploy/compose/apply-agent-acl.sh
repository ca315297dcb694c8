#!/bin/sh
# docker-compose one-shot (runs in the Redis image, after bootstrap.ts): gives the demo agent its
# own Redis user, the one the registry's ACL line describes (publish to video_demo, set its
# last-frame key, nothing else), and saves it to the ACL file on the Redis volume so it survives
# Redis restarts (deploy/k8s/redis/start-redis.sh loads that file).
#
# Env: REDIS_PASSWORD (the default user's), REDIS_HOST (redis), REDIS_PORT (6379),
# FRAMECAST_STATE_DIR (/var/lib/framecast, where bootstrap.ts wrote agent.acl).
set -eu
# The line holds `*` patterns when a key allows every room: no globbing.
set -f

: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set}"
acl_file=${FRAMECAST_STATE_DIR:-/var/lib/framecast}/agent.acl
# REDISCLI_AUTH keeps the password out of the process list.
export REDISCLI_AUTH="$REDIS_PASSWORD"
cli() { redis-cli -h "${REDIS_HOST:-redis}" -p "${REDIS_PORT:-6379}" "$@"; }

line=$(cat "$acl_file")
case "$line" in
  "ACL SETUSER framecast-agent-"*) ;;
  *) echo "apply-agent-acl: $acl_file does not hold an agent ACL line" >&2; exit 1 ;;
esac
# redis-cli exits 0 even when Redis answers an error, so each answer is checked.
check() { if [ "$1" != OK ]; then echo "apply-agent-acl: Redis answered: $1" >&2; exit 1; fi; }
# shellcheck disable=SC2086 # the ACL line is split into its words on purpose
check "$(cli $line)"
check "$(cli ACL SAVE)"
echo "apply-agent-acl: Redis user $(echo "$line" | cut -d ' ' -f 3) set and saved"
