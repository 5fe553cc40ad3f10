#!/bin/sh
# The foot scene of the record suite's foot-wtype, wf-recorder and wayvnc cases, run inside
# syncway's COMMAND: foot (running cat, so what it is sent is echoed) gets "syncway" typed by
# wtype through the virtual-keyboard protocol. Returns once a recorded PNG in RECORD_DIR is the
# REFERENCE's very bytes, or after 10 s (syncway-check, after the run, is the judge).
# Usage: foot_scene.sh RECORD_DIR REFERENCE
foot -c /dev/null -e cat &
i=0
until grep -q "\"app_id\":\"foot\"" "$1/trace.jsonl" 2>/dev/null; do
    i=$((i + 1)); [ $i -le 200 ] || { echo "foot never mapped" >&2; exit 3; }
    sleep 0.05
done
wtype syncway || exit 4
i=0
while [ $i -le 100 ]; do
    for f in "$1"/HEADLESS-1-*.png; do cmp -s "$f" "$2" && exit 0; done
    i=$((i + 1)); sleep 0.1
done
exit 0
