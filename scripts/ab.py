#!/usr/bin/env python3
"""Interleaved A/B timing of two commands: A, B, A, B, ... N times each.

Usage: scripts/ab.py N NAME_A NAME_B -- CMD_A... -- CMD_B...

Prints, for each: the median, mean and minimum wall time and the median CPU time (user +
system of the process and its children), then B against A. Interleaving is the point: on
a small shared machine a series of one command then a series of the other (hyperfine's
order) drifted ±10 % between series, more than a 5 % difference being looked for; each
pair here runs under the same conditions.
"""
import resource
import statistics as st
import subprocess
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    if len(args) < 6 or args[3] != "--" or "--" not in args[4:]:
        print(__doc__, file=sys.stderr)
        return 2
    n, names = int(args[0]), args[1:3]
    rest = args[4:]
    cut = rest.index("--")
    cmds = [rest[:cut], rest[cut + 1 :]]
    walls, cpus = [[], []], [[], []]
    for _ in range(n):
        for j, cmd in enumerate(cmds):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                print(f"{names[j]} exited {done.returncode}: {' '.join(cmd)}", file=sys.stderr)
                return 1
            walls[j].append(wall * 1000)
            cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
            cpus[j].append(cpu * 1000)
    print(f"| {n} interleaved runs each | median | mean | min | CPU (median) |")
    print("|---|---|---|---|---|")
    for j in range(2):
        w, c = walls[j], cpus[j]
        print(f"| {names[j]} | {st.median(w):.1f} ms | {st.mean(w):.1f} ms | {min(w):.1f} ms | {st.median(c):.1f} ms |")
    a, b = st.median(walls[0]), st.median(walls[1])
    print(f"\n{names[0]} vs {names[1]}: {a / b - 1:+.1%} (median wall time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
