#!/usr/bin/env python3
"""B6: explicit-sync-gles with explicit sync against the same client with --implicit, same run.

For each llvmpipe thread count (LP_NUM_THREADS) and each load, runs the example inside headless
syncway (1920x1080 output, 1920x1080 dma-buf buffers) in both modes, interleaved round by round,
and prints the medians of frames/s, client CPU per frame (all the client's threads, llvmpipe's
included), the main thread's busy time per frame (rendering submitted, waited for, copied,
committed: what explicit sync takes off it) and submit-to-present latency p50/p99 as the
example reports them (wp_presentation), explicit beside implicit with their ratio.

    bench/examples/gles_modes_bench.py --syncway build/compositor/syncway \\
        --example build/examples/explicit-sync-gles [--frames 120] [--rounds 3] \\
        [--threads 1,2] [--loads 2,8]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run_once(args, threads, load, implicit):
    cmd = [args.syncway, "--backend", "headless", "--output", args.size, "--",
           args.example, "--json", "--frames", str(args.frames), "--size", args.size,
           "--load", str(load), "--buffer", args.buffer]
    if implicit:
        cmd.append("--implicit")
    env = dict(os.environ, LP_NUM_THREADS=str(threads), LIBGL_ALWAYS_SOFTWARE="1")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    sys.exit(f"bench: no JSON report from {' '.join(cmd)}:\n{proc.stdout[-2000:]}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--syncway", required=True)
    p.add_argument("--example", required=True)
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--loads", default="2,8")
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--buffer", default="dmabuf", choices=["dmabuf", "shm"])
    args = p.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    loads = [int(x) for x in args.loads.split(",")]

    print(f"B6: explicit-sync-gles {args.size} {args.buffer}, {args.frames} frames per run, "
          f"median of {args.rounds} rounds; load average {os.getloadavg()[0]:.1f} at start")
    results = {}
    for r in range(args.rounds):
        for threads in threads_list:
            for load in loads:
                # Alternate which mode goes first, so drift in the host's load hits both.
                order = [False, True] if r % 2 == 0 else [True, False]
                for implicit in order:
                    rep = run_once(args, threads, load, implicit)
                    results.setdefault((threads, load, implicit), []).append(rep)
                    print(f"  round {r + 1}: LP_NUM_THREADS={threads} load {load} "
                          f"{'implicit' if implicit else 'explicit'}: {rep['frames_per_second']:.1f} fps, "
                          f"cpu {rep['client_cpu_ms_per_frame']:.2f} ms/frame, "
                          f"main {rep['main_thread_ms_per_frame']:.2f} ms/frame, "
                          f"p50 {rep['latency_ms']['p50']} ms, p99 {rep['latency_ms']['p99']} ms",
                          flush=True)

    def med(reps, key):
        values = [key(rep) for rep in reps]
        return statistics.median(values)

    figures = [
        ("frames/s", lambda rep: rep["frames_per_second"]),
        ("client CPU ms/frame", lambda rep: rep["client_cpu_ms_per_frame"]),
        ("main thread busy ms/frame", lambda rep: rep["main_thread_ms_per_frame"]),
        ("submit->present p50 ms", lambda rep: rep["latency_ms"]["p50"]),
        ("submit->present p99 ms", lambda rep: rep["latency_ms"]["p99"]),
    ]
    print()
    print(f"{'LP_NUM_THREADS':>14} {'load':>4}  {'figure':<26} {'explicit':>9} {'implicit':>9} {'ratio':>6}")
    for threads in threads_list:
        for load in loads:
            for name, key in figures:
                e = med(results[(threads, load, False)], key)
                i = med(results[(threads, load, True)], key)
                ratio = e / i if i else float("nan")
                print(f"{threads:>14} {load:>4}  {name:<26} {e:>9.2f} {i:>9.2f} {ratio:>6.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
