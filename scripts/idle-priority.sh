#!/usr/bin/env bash
# Runs a command on the CPU time nothing else wants: SCHED_IDLE and nice 19, and nice 19 for
# the autogroup of the calling session too. The autogroup is what matters on kernels that
# group by session (sched_autogroup_enabled), where every test meson runs is its own session:
# without it the command would get a full share beside each test, whatever its own policy.
# The autogroup's nice applies to the whole session, so callers that share theirs with work
# that must keep its speed start this under setsid.
#   idle-priority.sh COMMAND [ARGS...]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
# Not every kernel has autogroups, and containers may refuse either change: the command then
# runs at whatever priority it can get, only slower to give way.
echo 19 2>/dev/null > /proc/self/autogroup || true
if chrt --idle 0 true 2>/dev/null; then
  exec chrt --idle 0 nice -n 19 "$@"
fi
exec nice -n 19 "$@"
