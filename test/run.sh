#!/bin/sh
# Builds the project, then runs the test suite inside a network namespace that has only a
# loopback interface, so that no test (WebRTC gathers candidates on every interface it sees)
# can send a packet anywhere but this machine. Arguments go to vitest.
set -e
npm run build --silent
if [ "${VOICEBRIDGE_NETNS:-}" = 1 ]; then
  exec npx vitest run "$@"
fi
if ! unshare -rn true 2>/dev/null; then
  echo "test/run.sh: cannot create a network namespace (unshare -rn failed); run as root or enable user namespaces" >&2
  exit 2
fi
exec unshare -rn sh -c 'ip link set lo up && VOICEBRIDGE_NETNS=1 exec npx vitest run "$@"' sh "$@"
