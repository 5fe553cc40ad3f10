# syncobj/ and syncway on kernel timelines: the 6.12 kernel's virtio-gpu has timeline syncobjs
# and DRM_IOCTL_SYNCOBJ_EVENTFD (session kernel612). Backend selection, kernel fences imported
# into kernel timeline points, the IGT-derived syncobj cases run on the DRM backend, and syncway
# (--syncobj drm, headless) taking a client's kernel timelines through linux-drm-syncobj-v1,
# also with SYNCOBJ_EVENTFD hidden from it (as on 5.2-6.5 kernels).
. "$VM_LIB"
vm_runtime_dir
kver=$(uname -r)
case $kver in
    6.1.*|6.[2-5].*|[2-5].*) vm_fail "kernel $kver has no DRM_IOCTL_SYNCOBJ_EVENTFD (6.6+): this group needs the 6.12 session" ;;
esac
probe=$BUILD_ROOT/tests/vm/vm-fence-probe
# The service is there too, so forcing it must still work beside the kernel backend.
export SYNCWAY_SYNCOBJ_SOCKET=$XDG_RUNTIME_DIR/syncobjd.sock
vm_spawn "$BUILD_ROOT/syncobj/syncobjd" --socket "$SYNCWAY_SYNCOBJ_SOCKET"
vm_wait_for 20 test -S "$SYNCWAY_SYNCOBJ_SOCKET" || vm_fail "syncobjd did not create $SYNCWAY_SYNCOBJ_SOCKET"

# backends: auto picks the DRM backend on virtio-gpu's render node, forced drm works (a real
# kernel syncobj through create/eventfd/signal/query/wait), the service can still be forced.
if out=$("$probe" kernel-backends 2>&1); then vm_pass backends "$out"; else vm_failed backends "$out"; fi

# Kernel fences (sw_sync, vgem's implicit write fence) imported into kernel timeline points:
# the probes use the auto backend, which must be drm here (they print it).
for c in import-sw-sync import-vgem; do
    if out=$("$probe" "$c" 2>&1) && grep -q "^backend drm, timeline fd anon_inode:syncobj_file" <<<"$out"; then
        vm_pass "$c" "$out"
    else
        vm_failed "$c" "$out (expected the drm backend and a kernel syncobj)"
    fi
done

# syncobj_submit on the DRM backend: signalers are sw_sync timelines (debugfs, root here). A point
# submitted, waited for and signaled by three processes; a signaler process that exits
# unsignaled fails the point with EOWNERDEAD for every waiter (the kernel fails a closed sw_sync
# timeline's fences with ENOENT); without sw_sync access, EOPNOTSUPP naming the path.
for c in wait-before-signal signaler-died submit-no-sw-sync; do
    start=$SECONDS
    if out=$(timeout -k 5 60 "$probe" "drm-$c" 2>&1); then vm_pass "$c" "$out ($((SECONDS - start)) s)"; else vm_failed "$c" "$out"; fi
done

# igt: the IGT-derived cases of the syncobj suite on the DRM backend; unsignaled points come
# from syncobj_submit, i.e. sw_sync, as in IGT. Every case must pass; the ones that cannot apply to a kernel backend
# skip (gtest lists them) and must stay few.
igt=$BUILD_ROOT/tests/syncobj/syncobj_igt_test
start=$SECONDS
SYNCOBJ_TEST_BACKEND=drm timeout -k 5 150 "$igt" --gtest_brief=1 > "$CHECK_TMP/igt.log" 2>&1
rc=$?
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$CHECK_TMP/igt.log")
skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$CHECK_TMP/igt.log")
summary="syncobj_igt_test on the drm backend: exit $rc, ${passed:-0} passed, ${skipped:-0} skipped ($((SECONDS - start)) s)"
if [ $rc = 0 ] && [ "${passed:-0}" -ge 190 ] && [ "${skipped:-0}" -le 10 ]; then
    vm_pass igt "$summary"$'\n'"$(grep -E '^\[  SKIPPED \] [A-Za-z]' "$CHECK_TMP/igt.log")"
else
    vm_failed igt "$summary (want exit 0, >= 190 passed, <= 10 skipped)"$'\n'"$(tail -n 80 "$CHECK_TMP/igt.log")"
fi

# syncway-drm: headless syncway with --syncobj drm (SYNCWAY_SYNCOBJ=drm; the protocol suite's
# fixture passes no --syncobj) and the protocol suite's client making its timelines on the
# render node (SYNCOBJ_TEST_BACKEND=drm): held commits stay off screen until the client's
# TIMELINE_SIGNAL, release points are signaled in the kernel timelines, and a held commit whose
# signaler (a sw_sync timeline of the DRM backend) died unsignaled is dropped, never shown (the
# host reads the fence's error from a snapshot taken at its wait). Left out:
# Flow.SubmittedPointSignaledFromAnotherThread (passes with the DRM backend's sw_sync
# signalers, but costs this short session 18 s; syncobj-kernel.wait-before-signal covers the
# mechanism).
flow_cases=Flow.CommitHeldUntilAcquireSignaled:Flow.LaterCommitsQueueBehindHeldOne:Flow.ReleasedWhenSurfaceDestroyed:Flow.HeldCommitHonouredAfterSyncObjectDestroyed:Flow.FailedAcquireNeverShows
list=$VM_OUT/suites/protocol.sh
line=$(grep "^vm_suite_test flow " "$list" 2>/dev/null)
if [ -z "$line" ]; then
    vm_failed syncway-drm "the host listed no protocol test 'flow' ($list)"
else
    # The first syncway start reads wlroots and friends through 9p; under load that alone can
    # exceed the fixture's 20 s start-up limit, so page them in first.
    "$BUILD_ROOT/compositor/syncway" --help > /dev/null 2>&1
    # The suite's own command and environment, with our filter last (gtest: the last one wins).
    run_flow() { shift 4; SYNCWAY_SYNCOBJ=drm SYNCOBJ_TEST_BACKEND=drm timeout -k 5 150 "$@" --gtest_filter="$flow_cases"; }
    eval "run_flow ${line#vm_suite_test }" > "$CHECK_TMP/flow.log" 2>&1
    rc=$?
    passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$CHECK_TMP/flow.log")
    want=$(tr ':' '\n' <<<"$flow_cases" | wc -l)
    summary="protocol Flow cases with kernel timelines and --syncobj drm: exit $rc, ${passed:-0}/$want passed"
    # The compositor's log line proves which mode it ran in and through which node.
    if ! grep -q "explicit sync (--syncobj drm).*kernel syncobj fds accepted through /dev/dri/renderD" "$CHECK_TMP/flow.log"; then
        vm_failed syncway-drm "$summary; syncway never logged '--syncobj drm ... kernel syncobj fds accepted'"$'\n'"$(tail -n 80 "$CHECK_TMP/flow.log")"
    elif [ $rc = 0 ] && [ "${passed:-0}" = "$want" ]; then
        vm_pass syncway-drm "$summary"$'\n'"$(grep -m1 -o "explicit sync (--syncobj drm).*" "$CHECK_TMP/flow.log")"$'\n'"$(grep -E '^\[       OK \]' "$CHECK_TMP/flow.log")"
    else
        vm_failed syncway-drm "$summary"$'\n'"$(tail -n 80 "$CHECK_TMP/flow.log")"
    fi
fi
# example-drm: the example client (examples/explicit-sync-shm.c: acquire points submitted before
# a render thread draws and signals them) on kernel timelines, inside headless syncway with
# --syncobj drm: its timelines come from the render node (the service is not offered to it), its
# submissions are sw_sync fences, and every frame must go through (syncway exits with its status).
example=$BUILD_ROOT/examples/explicit-sync-shm
SYNCWAY_SYNCOBJ=drm timeout -k 5 60 "$BUILD_ROOT/compositor/syncway" --backend headless --output 640x480 -- \
    "$example" --frames 60 > "$CHECK_TMP/example.log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "timelines from the drm backend" "$CHECK_TMP/example.log" &&
   grep -q "60 frames committed with explicit sync" "$CHECK_TMP/example.log"; then
    vm_pass example-drm "$(grep -E "^explicit-sync-shm:" "$CHECK_TMP/example.log")"
else
    vm_failed example-drm "syncway -- explicit-sync-shm with --syncobj drm: exit $rc (want 0, the drm backend, 60 frames)"$'\n'"$(tail -n 40 "$CHECK_TMP/example.log")"
fi

# wait-fault: a wait syncway cannot arm must not leave a commit held for good. syncway --syncobj
# drm runs the example with libvm-ioctl-fault.so, which has the kernel's fail-nth fail the first
# allocation of syncway's first DRM_IOCTL_SYNCOBJ_EVENTFD (failslab, sleeping allocations
# included): the kernel answers ENOMEM. syncway must disconnect that client with a protocol error
# (the example reports it and exits 1), log the cause, and end with the client's status: no hang
# (the timeout), no crash.
fault_dir=$CHECK_TMP/eventfd-fault
mkdir -p "$fault_dir"
dbg=/sys/kernel/debug
if [ ! -w /proc/self/fail-nth ] || [ ! -w "$dbg/failslab/ignore-gfp-wait" ]; then
    vm_failed wait-fault "no fail-nth or failslab in this kernel (CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB)"
else
    echo N > "$dbg/failslab/ignore-gfp-wait"; echo 0 > "$dbg/failslab/verbose"
    echo 1 > "$fault_dir/arm"
    start=$SECONDS
    LD_PRELOAD=$BUILD_ROOT/tests/vm/libvm-ioctl-fault.so SYNCWAY_VM_IOCTL_FAULT=$fault_dir \
        SYNCWAY_VM_IOCTL_FAULT_ON=syncobj-eventfd SYNCWAY_SYNCOBJ=drm timeout -k 5 60 \
        "$BUILD_ROOT/compositor/syncway" --backend headless --output 640x480 -- "$example" --frames 60 \
        > "$CHECK_TMP/wait-fault.log" 2>&1
    rc=$?
    echo Y > "$dbg/failslab/ignore-gfp-wait"
    injected=$(cat "$fault_dir/log" 2>/dev/null)
    summary="fault log: ${injected:-nothing (no SYNCOBJ_EVENTFD was armed)}; syncway exit $rc ($((SECONDS - start)) s)"
    if [ "$injected" != "fail-nth 1 injected: ioctl -1 ENOMEM" ]; then
        vm_failed wait-fault "$summary (want the first SYNCOBJ_EVENTFD failed with ENOMEM)"$'\n'"$(tail -n 30 "$CHECK_TMP/wait-fault.log")"
    elif [ $rc != 1 ]; then
        vm_failed wait-fault "$summary (want 1: the client's status after its disconnection; 124 is a hang)"$'\n'"$(tail -n 30 "$CHECK_TMP/wait-fault.log")"
    elif ! grep -q "cannot wait for acquire point .*SYNCOBJ_EVENTFD failed: Cannot allocate memory" "$CHECK_TMP/wait-fault.log" ||
         ! grep -q "explicit-sync-shm: protocol error" "$CHECK_TMP/wait-fault.log"; then
        vm_failed wait-fault "$summary; want syncway to name the cause and the client to see a protocol error"$'\n'"$(tail -n 30 "$CHECK_TMP/wait-fault.log")"
    else
        vm_pass wait-fault "$summary"$'\n'"$(grep -m1 -o "cannot wait for acquire point.*" "$CHECK_TMP/wait-fault.log")"$'\n'"$(grep -m1 "explicit-sync-shm: protocol error" "$CHECK_TMP/wait-fault.log")"
    fi
fi
# host-points, host-points-no-eventfd: the compositor's host (syncobj/host) on the render node's
# syncobjs, as syncway --syncobj drm uses it: a binary syncobj holding an unsignaled sync_file
# fence (point 0) is pending and its wait quiet until the fence signals, and a point waited for
# before its submission is quiet until submitted and signaled. Run with SYNCOBJ_EVENTFD, then
# with that ioctl answering ENOTTY (libvm-no-syncobj-eventfd.so, standing in for Linux 5.2-6.5):
# the host then waits through its waiter thread (DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT).
noeventfd=$BUILD_ROOT/tests/vm/libvm-no-syncobj-eventfd.so
start=$SECONDS
if out=$(timeout -k 5 30 "$probe" host-kernel-points 2>&1) && grep -q "waited for by SYNCOBJ_EVENTFD" <<<"$out"; then
    vm_pass host-points "$out ($((SECONDS - start)) s)"
else
    vm_failed host-points "$out (want the host on SYNCOBJ_EVENTFD)"
fi
start=$SECONDS
if out=$(SYNCWAY_VM_NO_EVENTFD=vm-fence-probe LD_PRELOAD=$noeventfd timeout -k 5 30 "$probe" host-kernel-points 2>&1) &&
   grep -q "answered ENOTTY in vm-fence-probe" <<<"$out" && grep -q "waited for by a waiter thread" <<<"$out"; then
    vm_pass host-points-no-eventfd "$out ($((SECONDS - start)) s)"
else
    vm_failed host-points-no-eventfd "$out (want SYNCOBJ_EVENTFD hidden and the host on its waiter thread)"
fi

# no-eventfd: syncway --syncobj drm where SYNCOBJ_EVENTFD answers ENOTTY in syncway only (its
# clients keep it): it must still advertise the global and accept the clients' kernel
# timelines, hold commits until their acquire points signal, signal release points, and present
# (the protocol Flow cases with kernel timelines, then the example client's 60 frames).
noevfd_cases=Flow.CommitHeldUntilAcquireSignaled:Flow.LaterCommitsQueueBehindHeldOne:Flow.ReleasedWhenSurfaceDestroyed
if [ -z "$line" ]; then
    vm_failed no-eventfd "the host listed no protocol test 'flow' ($list)"
else
    start=$SECONDS
    run_noevfd() { shift 4; SYNCWAY_VM_NO_EVENTFD=syncway LD_PRELOAD=$noeventfd SYNCWAY_SYNCOBJ=drm SYNCOBJ_TEST_BACKEND=drm timeout -k 5 120 "$@" --gtest_filter="$noevfd_cases"; }
    eval "run_noevfd ${line#vm_suite_test }" > "$CHECK_TMP/noevfd-flow.log" 2>&1
    rc=$?
    passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$CHECK_TMP/noevfd-flow.log")
    want=$(tr ':' '\n' <<<"$noevfd_cases" | wc -l)
    SYNCWAY_VM_NO_EVENTFD=syncway LD_PRELOAD=$noeventfd SYNCWAY_SYNCOBJ=drm timeout -k 5 60 \
        "$BUILD_ROOT/compositor/syncway" --backend headless --output 640x480 -- "$example" --frames 60 \
        > "$CHECK_TMP/noevfd-example.log" 2>&1
    erc=$?
    summary="without SYNCOBJ_EVENTFD in syncway: protocol Flow cases exit $rc, ${passed:-0}/$want passed; explicit-sync-shm exit $erc ($((SECONDS - start)) s)"
    # The flow cases' fixture shows only syncway's "explicit sync (...)" line: on 6.12 it can
    # name the waiter thread only if the library hid the ioctl. The example shows all of stderr.
    if ! grep -q "answered ENOTTY in syncway" "$CHECK_TMP/noevfd-example.log"; then
        vm_failed no-eventfd "$summary; the preload library never hid SYNCOBJ_EVENTFD from syncway"$'\n'"$(tail -n 40 "$CHECK_TMP/noevfd-example.log")"
    elif ! grep -q "explicit sync (--syncobj drm).*kernel syncobj fds accepted through /dev/dri/renderD.*waiter thread" "$CHECK_TMP/noevfd-flow.log"; then
        vm_failed no-eventfd "$summary; syncway never logged that it accepts kernel syncobj fds through its waiter thread"$'\n'"$(tail -n 60 "$CHECK_TMP/noevfd-flow.log")"
    elif [ $rc = 0 ] && [ "${passed:-0}" = "$want" ] && [ $erc = 0 ] &&
         grep -q "timelines from the drm backend" "$CHECK_TMP/noevfd-example.log" &&
         grep -q "60 frames committed with explicit sync" "$CHECK_TMP/noevfd-example.log"; then
        vm_pass no-eventfd "$summary"$'\n'"$(grep -m1 -o "explicit sync (--syncobj drm).*" "$CHECK_TMP/noevfd-flow.log")"$'\n'"$(grep -E '^\[       OK \]' "$CHECK_TMP/noevfd-flow.log")"$'\n'"$(grep -E "^explicit-sync-shm:" "$CHECK_TMP/noevfd-example.log")"
    else
        vm_failed no-eventfd "$summary"$'\n'"$(tail -n 60 "$CHECK_TMP/noevfd-flow.log")"$'\n'"$(tail -n 20 "$CHECK_TMP/noevfd-example.log")"
    fi
fi
vm_group_status
