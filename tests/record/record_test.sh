#!/bin/sh
# Suite 'record': the real syncway records real clients, and syncway-check judges the
# recordings. One CASE per meson test (see meson.build). Needs SYNCWAY_BIN, CHECK_BIN,
# SCRIBBLER_BIN, EXAMPLE_BIN, REFERENCE_DIR and RFB_FRAME (rfb_frame.py); the cases with
# third-party clients need them installed (scripts/setup.sh: foot, wtype, wf-recorder, wayvnc,
# wlr-randr, gtk-4-examples, imagemagick, vulkan-tools with Mesa's lavapipe).
set -u
CASE=$1
WORK=$(mktemp -d /tmp/syncway-record-test-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL ($CASE): $*" >&2; exit 1; }

# syncway headless, damage-driven output, recording into $WORK/$1; the rest is its arguments.
record() {
    dir=$1; shift
    "$SYNCWAY_BIN" --backend headless --output 320x240@0 --record "$WORK/$dir" "$@" 2>"$WORK/$dir.log"
}
# foot with "syncway" typed, for the cases that check third-party clients against one reference.
FOOT_SCENE="$(cd "$(dirname "$0")" && pwd)/foot_scene.sh"
# syncway-check with an expected status; its output is kept in $WORK/check.out.
check_status() {
    want=$1; shift
    "$CHECK_BIN" "$@" >"$WORK/check.out" 2>&1
    got=$?
    cat "$WORK/check.out"
    [ "$got" = "$want" ] || fail "syncway-check $* exited $got, expected $want"
}

case $CASE in
simple-shm)
    # weston-simple-shm's first frame is drawn for time 0: the same pixels on every run.
    record shm --frames 12 -- weston-simple-shm || fail "syncway exited $? (log: $(tail -3 "$WORK/shm.log"))"
    ls "$WORK/shm"/HEADLESS-1-*.png >/dev/null 2>&1 || fail "no frame PNG recorded"
    grep -q '"app_id":"org.freedesktop.weston.simple-shm"' "$WORK/shm/trace.jsonl" || fail "no simple-shm commit in the trace"
    grep -q '"reason":"frames"' "$WORK/shm/trace.jsonl" || fail "the end record does not say --frames ended the run"
    check_status 0 --expect first="$REFERENCE_DIR/simple-shm-320x240.png" "$WORK/shm"
    check_status 0 --json --expect first="$REFERENCE_DIR/simple-shm-320x240.png" "$WORK/shm"
    grep -q '"result": "pass"' "$WORK/check.out" || fail "--json does not say pass"
    # The reference must be able to fail: against the empty first frame it does, with a diff.
    check_status 1 --expect 1="$REFERENCE_DIR/simple-shm-320x240.png" "$WORK/shm"
    ls "$WORK/shm"/diff-HEADLESS-1-*.png >/dev/null 2>&1 || fail "no diff image written on mismatch"
    ;;
foot-wtype)
    # foot (running cat, so what it is sent is echoed) gets "syncway" typed by wtype through
    # the virtual-keyboard protocol; the text must be in a presented frame. The command waits
    # for foot's window in the trace, types, and ends once a recorded PNG is the reference's
    # very bytes (or after 10 s); syncway-check, after the run, is the judge.
    ref="$REFERENCE_DIR/foot-wtype-320x240.png"
    record foot -- "$FOOT_SCENE" "$WORK/foot" "$ref" || fail "syncway exited $? (log: $(tail -3 "$WORK/foot.log"))"
    grep -q '"app_id":"foot"' "$WORK/foot/trace.jsonl" || fail "no foot commit in the trace"
    check_status 0 --expect last="$ref" "$WORK/foot"
    # Before the keys, foot's window does not match: the text is what the reference checks.
    check_status 1 --expect first="$ref" "$WORK/foot"
    ;;
wf-recorder)
    # wf-recorder (screencopy) records what syncway shows: foot with "syncway" typed (the
    # foot-wtype scene, which then stays still), as raw frames; its first frame must be the
    # reference, pixel for pixel. (Its last one is cut short when it is stopped.)
    ref="$REFERENCE_DIR/foot-wtype-320x240.png"
    record wf -- sh -c '
        "$0" "$1" "$2" || exit $?
        # -D: a frame per refresh, not only on damage (the scene no longer changes).
        wf-recorder -D -c rawvideo -m rawvideo -f "$3" >"$3.log" 2>&1 &
        rec=$!
        # Two frames (320x240, 4 bytes a pixel) written, then stop it as a user would (SIGINT).
        i=0
        while [ "$(stat -c %s "$3" 2>/dev/null || echo 0)" -lt 614400 ] && [ $i -le 100 ]; do
            i=$((i + 1)); sleep 0.1
        done
        kill -INT $rec; wait $rec' "$FOOT_SCENE" "$WORK/wf" "$ref" "$WORK/wf.raw" \
        || fail "syncway or wf-recorder exited $? (log: $(tail -3 "$WORK/wf.log") $(tail -3 "$WORK/wf.raw.log" 2>/dev/null))"
    grep -q "bgr0" "$WORK/wf.raw.log" || fail "wf-recorder did not record bgr0 frames (log: $(cat "$WORK/wf.raw.log"))"
    size=$(stat -c %s "$WORK/wf.raw" 2>/dev/null || echo 0)
    [ "$size" -ge 307200 ] || fail "wf-recorder wrote $size bytes, not one 320x240 frame (log: $(tail -3 "$WORK/wf.raw.log"))"
    # bgr0 to RGB, for ImageMagick's compare.
    head -c 307200 "$WORK/wf.raw" | python3 -c '
import sys
d = sys.stdin.buffer.read()
o = bytearray(len(d) // 4 * 3)
o[0::3], o[1::3], o[2::3] = d[2::4], d[1::4], d[0::4]
sys.stdout.buffer.write(o)' >"$WORK/first.rgb"
    diff=$(compare -metric AE -size 320x240 -depth 8 "rgb:$WORK/first.rgb" "$ref" null: 2>&1)
    [ "$diff" = 0 ] || fail "wf-recorder's first frame differs from $ref in $diff pixels"
    # The same comparison sees a different picture.
    diff=$(compare -metric AE -size 320x240 -depth 8 "rgb:$WORK/first.rgb" "$REFERENCE_DIR/vkcube-first-320x240.png" null: 2>&1)
    [ "$diff" != 0 ] || fail "the comparison with wf-recorder's frame finds no difference where there is one"
    ;;
wayvnc)
    # wayvnc serves what syncway shows (live view of a headless run): the still foot scene of
    # foot-wtype, taken as one raw frame by an RFB client of ours (rfb_frame.py), must be the
    # reference, pixel for pixel.
    ref="$REFERENCE_DIR/foot-wtype-320x240.png"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    record vnc -- sh -c '
        "$0" "$1" "$2" || exit $?
        wayvnc 127.0.0.1 "$3" >"$4.wayvnc.log" 2>&1 &
        vnc=$!
        i=0
        until python3 "$5" 127.0.0.1 "$3" "$4" 2>"$4.err"; do
            i=$((i + 1)); [ $i -le 50 ] || { cat "$4.err" >&2; kill $vnc; exit 5; }
            sleep 0.1
        done
        kill $vnc; wait $vnc; exit 0' "$FOOT_SCENE" "$WORK/vnc" "$ref" "$port" "$WORK/vnc.rgb" "$RFB_FRAME" \
        || fail "syncway, wayvnc or the RFB client exited $? (log: $(tail -3 "$WORK/vnc.log") $(tail -3 "$WORK/vnc.rgb.wayvnc.log" 2>/dev/null))"
    diff=$(compare -metric AE -size 320x240 -depth 8 "rgb:$WORK/vnc.rgb" "$ref" null: 2>&1)
    [ "$diff" = 0 ] || fail "wayvnc's frame differs from $ref in $diff pixels"
    diff=$(compare -metric AE -size 320x240 -depth 8 "rgb:$WORK/vnc.rgb" "$REFERENCE_DIR/vkcube-first-320x240.png" null: 2>&1)
    [ "$diff" != 0 ] || fail "the comparison with wayvnc's frame finds no difference where there is one"
    ;;
wlr-randr)
    # Output configuration at run time (wlr-output-management): wlr-randr lists the output,
    # changes its mode, then its scale and position; each change shows in the next listing, and
    # the frames presented after the mode change have the new size. Turning it off is refused.
    record randr -- sh -c '
        wlr-randr >"$1/list1" 2>&1 || exit 3
        wlr-randr --output HEADLESS-1 --custom-mode 640x480 || exit 4
        wlr-randr >"$1/list2" 2>&1 || exit 5
        wlr-randr --output HEADLESS-1 --scale 2 --pos 10,20 || exit 6
        wlr-randr >"$1/list3" 2>&1
        # The only output cannot be turned off (nothing could present again): refused.
        wlr-randr --output HEADLESS-1 --off 2>"$1/off" && exit 7
        wlr-randr >"$1/list4" 2>&1' sh "$WORK" || fail "syncway or wlr-randr exited $? (log: $(tail -3 "$WORK/randr.log"))"
    grep -q "^HEADLESS-1 " "$WORK/list1" || fail "wlr-randr does not list HEADLESS-1: $(cat "$WORK/list1")"
    grep -q "320x240 px, 60.000000 Hz (current)" "$WORK/list1" || fail "first listing: $(cat "$WORK/list1")"
    grep -q "640x480 px, 60.000000 Hz (current)" "$WORK/list2" || fail "after --custom-mode 640x480: $(cat "$WORK/list2")"
    grep -q "Position: 10,20" "$WORK/list3" && grep -q "Scale: 2.000000" "$WORK/list3" \
        || fail "after --scale 2 --pos 10,20: $(cat "$WORK/list3")"
    grep -q "failed" "$WORK/off" || fail "turning the only output off: wlr-randr says $(cat "$WORK/off")"
    grep -q "Enabled: yes" "$WORK/list4" || fail "after the refused --off: $(cat "$WORK/list4")"
    last=$(ls "$WORK/randr"/HEADLESS-1-*.png | tail -n 1)
    size=$(python3 -c 'import struct, sys; d = open(sys.argv[1], "rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$last")
    [ "$size" = 640x480 ] || fail "the last frame ($last) is $size, not 640x480"
    ;;
gtk4-demo)
    # A GTK 4 application: gtk4-demo's "Info Bars" demo (gtk-4-examples), a still scene of
    # labels, buttons and info bars. What makes GTK draw the same pixels on every run:
    #  - GSK_RENDERER=cairo: GTK renders in software into wl_shm buffers (its GL renderer
    #    would depend on the Mesa driver found, and takes longer to start);
    #  - a private HOME and XDG_CONFIG_HOME whose gtk-4.0/settings.ini turns animations and
    #    the blinking text cursor off, and no user fonts, themes or fontconfig settings;
    #  - GSETTINGS_BACKEND=memory and GTK_A11Y=none: no dconf or accessibility bus to wait for
    #    (the run has no session bus) and nothing left behind in syncway's runtime directory;
    #  - the damage-driven output, so the frames do not depend on a clock.
    # The scene needs neither a region nor a mask: nothing in it moves (no clock, spinner or
    # progress bar; gtk4-widget-factory has pulsing progress bars and spinners that do).
    # The command starts the demo and returns once a recorded PNG is the reference's very bytes
    # (or after 10 s); syncway tears the demo's connection down at exit without drawing again,
    # so the last frame is what the demo showed. syncway-check, after the run, is the judge.
    ref="$REFERENCE_DIR/gtk4-demo-infobar-640x360.png"
    mkdir -p "$WORK/home/.config/gtk-4.0" "$WORK/home/.local/share"
    printf '[Settings]\ngtk-enable-animations=false\ngtk-cursor-blink=false\n' \
        >"$WORK/home/.config/gtk-4.0/settings.ini"
    HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share" \
        GSK_RENDERER=cairo GSETTINGS_BACKEND=memory GTK_A11Y=none \
        "$SYNCWAY_BIN" --backend headless --output 640x360@0 --record "$WORK/gtk" -- sh -c '
            gtk4-demo --run=infobar >"$1.demo.log" 2>&1 &
            i=0
            while [ $i -le 100 ]; do
                for f in "$1"/HEADLESS-1-*.png; do cmp -s "$f" "$2" && exit 0; done
                i=$((i + 1)); sleep 0.1
            done
            exit 0' sh "$WORK/gtk" "$ref" 2>"$WORK/gtk.log" \
        || fail "syncway exited $? (log: $(tail -3 "$WORK/gtk.log"))"
    grep -q '"app_id":"gtk4-demo"' "$WORK/gtk/trace.jsonl" || fail "no gtk4-demo commit in the trace (demo log: $(tail -3 "$WORK/gtk.demo.log"))"
    # The first frame the demo presented is already the finished scene, and so is the last.
    check_status 0 --expect first="$ref" --expect last="$ref" "$WORK/gtk"
    # The comparison sees a frame without the demo (the output before it mapped).
    check_status 1 --expect 1="$ref" "$WORK/gtk"
    ;;
output-off)
    # Two headless outputs side by side; weston-simple-shm's window is on HEADLESS-1 (at the
    # pointer, 0,0). While it presents, wlr-randr turns HEADLESS-1 off, then tries to turn
    # HEADLESS-2 off too (refused: it is the last output on), then turns HEADLESS-1 on again.
    # The half second off only gives a wrong compositor time to present there; the judges are
    # the trace and syncway-check, not the timing.
    "$SYNCWAY_BIN" --backend headless --output 320x240@60 --output 320x240@60 --record "$WORK/off" -- sh -c '
        frames() { grep -c "\"type\":\"frame\",\"output\":\"HEADLESS-1\"" "$1/trace.jsonl"; }
        wait_frames() {
            i=0
            until [ "$(frames "$1")" -ge "$2" ]; do
                i=$((i + 1)); [ $i -le 100 ] || { echo "HEADLESS-1 never reached $2 frames" >&2; exit 3; }
                sleep 0.05
            done
        }
        weston-simple-shm & app=$!
        wait_frames "$1" 10
        wlr-randr --output HEADLESS-1 --off || exit 4
        wlr-randr >"$1.list-off" 2>&1
        wlr-randr --output HEADLESS-2 --off 2>"$1.refused" && exit 5
        wlr-randr >"$1.list-refused" 2>&1
        sleep 0.5
        wlr-randr --output HEADLESS-1 --on || exit 6
        wait_frames "$1" $(($(frames "$1") + 10))
        kill $app; wait $app; exit 0' sh "$WORK/off" 2>"$WORK/off.log" \
        || fail "syncway or wlr-randr exited $? (log: $(tail -3 "$WORK/off.log"))"
    grep -A1 "^HEADLESS-1 " "$WORK/off.list-off" | grep -q "Enabled: no" || fail "HEADLESS-1 turned off is listed as: $(cat "$WORK/off.list-off")"
    grep -q "failed" "$WORK/off.refused" || fail "turning the last output off: wlr-randr says $(cat "$WORK/off.refused")"
    grep -q "configuration refused: it turns every output off" "$WORK/off.log" || fail "the refusal is not logged with its reason"
    grep -A1 "^HEADLESS-2 " "$WORK/off.list-refused" | grep -q "Enabled: yes" || fail "HEADLESS-2 after the refusal: $(cat "$WORK/off.list-refused")"
    # No frame of HEADLESS-1 while it was off (syncway-check's presented-on-disabled-output),
    # and the rest of the invariants.
    check_status 0 "$WORK/off"
    python3 - "$WORK/off/trace.jsonl" <<'EOF' || fail "the trace around the output going off and on"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
off = [r["t"] for r in records if r["type"] == "output_off" and r["name"] == "HEADLESS-1"]
on = [r["t"] for r in records if r["type"] == "output" and r["name"] == "HEADLESS-1"]
assert len(off) == 1 and len(on) == 2 and on[1] > off[0], f"off {off}, on {on}"
assert not any(r["type"] == "output_off" and r["name"] == "HEADLESS-2" for r in records), "HEADLESS-2 went off"
frames = [r for r in records if r["type"] == "frame" and r["output"] == "HEADLESS-1"]
after = [f for f in frames if f["t"] > on[1]]
assert len(after) >= 10 and any(f["file"] for f in after), f"{len(after)} frames after HEADLESS-1 was on again"
# Without frame callbacks the client stops: at most the commit answering the last callback
# before the output went off reaches syncway while it is off, and nothing is presented then.
shm = [r for r in records if r["type"] == "commit" and r.get("app_id") == "org.freedesktop.weston.simple-shm"]
while_off = [c for c in shm if off[0] < c["t_commit"] < on[1]]
assert len(while_off) <= 1, f"{len(while_off)} commits while HEADLESS-1 was off"
for c in shm:
    p = c["presented"]
    assert not p or not (off[0] <= p["t"] < on[1]), f"commit {c['seq']} presented while off: {p}"
# What the client last committed before the output came back is not lost: it is presented
# (its wp_presentation feedback says so), before the output went off or once it is on.
last = max((c for c in shm if c["t_commit"] < on[1]), key=lambda c: c["t_commit"])
assert last["presented"], f"commit {last['seq']}, the last before HEADLESS-1 was on again, was never presented"
print(f"HEADLESS-1 off for {(on[1] - off[0]) / 1e6:.0f} ms: {len(while_off)} commit(s), no frame; {len(after)} frames after")
EOF
    ;;
vkcube)
    # vkcube-wayland on lavapipe, through syncway's Vulkan layer (explicit sync): its first two
    # frames against references (the cube turns a fixed angle per frame; the third and last
    # one may not be presented before vkcube exits, so it is not looked at).
    VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json LP_NUM_THREADS=1 NODEVICE_SELECT=1 \
        record vk -- vkcube-wayland --c 3 --width 320 --height 240 \
        || fail "syncway exited $? (log: $(tail -3 "$WORK/vk.log"))"
    grep -q '"title":"vkcube".*"acquire":{"timeline"' "$WORK/vk/trace.jsonl" \
        || fail "no vkcube commit with an acquire point in the trace"
    check_status 0 --expect first="$REFERENCE_DIR/vkcube-first-320x240.png" \
        --expect any="$REFERENCE_DIR/vkcube-second-320x240.png" "$WORK/vk"
    check_status 1 --expect first="$REFERENCE_DIR/vkcube-second-320x240.png" "$WORK/vk"
    ;;
scribble)
    record good -- "$SCRIBBLER_BIN" || fail "syncway exited $? with the well-behaved client (log: $(tail -3 "$WORK/good.log"))"
    check_status 0 "$WORK/good"
    record bad -- "$SCRIBBLER_BIN" --scribble || fail "syncway exited $? with the scribbling client"
    check_status 1 "$WORK/bad"
    grep -q "buffer-written-before-release" "$WORK/check.out" || fail "the scribbling was not named"
    ;;
ignore-acquire)
    # The example commits each frame before drawing it: only acquire points keep it off screen.
    record good -- "$EXAMPLE_BIN" --frames 30 || fail "syncway exited $? (log: $(tail -3 "$WORK/good.log"))"
    check_status 0 "$WORK/good"
    record bad --test-fault=ignore-acquire -- "$EXAMPLE_BIN" --frames 30 || fail "syncway exited $?"
    check_status 1 "$WORK/bad"
    grep -q "acquire-before-present" "$WORK/check.out" || fail "frames shown before their acquire point were not named"
    ;;
limits)
    "$SYNCWAY_BIN" --backend headless --output 320x240@0 --timeout 0.5 --record "$WORK/t" -- sleep 30 2>/dev/null
    st=$?; [ $st = 124 ] || fail "--timeout: exit status $st, expected 124"
    grep -q '"reason":"timeout","status":124' "$WORK/t/trace.jsonl" || fail "--timeout: end record"
    "$SYNCWAY_BIN" --backend headless --output 320x240@0 --screenshot "$WORK/shot.png" --frames 5 -- weston-simple-shm 2>/dev/null
    st=$?; [ $st = 0 ] || fail "--frames: exit status $st, expected 0"
    head -c 8 "$WORK/shot.png" | od -c | grep -q "P   N   G" || fail "--screenshot wrote no PNG"
    "$SYNCWAY_BIN" --backend headless --output 320x240@0 --record "$WORK/c" -- sh -c 'exit 3' 2>/dev/null
    st=$?; [ $st = 3 ] || fail "command status: $st, expected 3"
    grep -q '"reason":"command","status":3' "$WORK/c/trace.jsonl" || fail "command: end record"
    "$SYNCWAY_BIN" --backend headless --output 320x240@0 --scale 2 --frames 3 --record "$WORK/s" -- weston-simple-shm 2>/dev/null
    grep -q '"scale_milli":2000' "$WORK/s/trace.jsonl" || fail "--scale 2: the output's scale is not 2"
    "$SYNCWAY_BIN" --backend headless --record /proc/forbidden -- true 2>"$WORK/err"
    st=$?; [ $st = 1 ] || fail "--record into an impossible directory: status $st, expected 1"
    grep -q "/proc/forbidden" "$WORK/err" || fail "--record error does not name the directory"
    ;;
check-cli)
    check_status 2
    check_status 2 "$WORK/none"
    grep -q "trace.jsonl" "$WORK/check.out" || fail "missing trace not named"
    check_status 2 --tolerance 300 "$WORK"
    check_status 2 --expect middle=x.png "$WORK"
    check_status 2 --region 1,2,3 "$WORK"
    mkdir "$WORK/trunc" && echo '{"type":"header","version":1}' >"$WORK/trunc/trace.jsonl"
    check_status 2 "$WORK/trunc"
    grep -q "truncated" "$WORK/check.out" || fail "truncated trace not called so"
    check_status 2 --json "$WORK/trunc"
    grep -q '"result": "bad-input"' "$WORK/check.out" || fail "--json bad input"
    ;;
*)
    fail "unknown case"
    ;;
esac
echo "PASS ($CASE)"
