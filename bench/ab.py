#!/usr/bin/env python3
"""Two ziffer binaries timed alternately in one run: `ziffer bench` epochs, A then B, round after
round, so that both see the same load on a shared machine. Prints each binary's median seconds
per epoch and GFLOP/s per thread count, and B's time as a fraction of A's.

    python3 bench/ab.py OLD_BINARY NEW_BINARY [--rounds 5] [--epochs 3] [--threads 1,2]

Used to show that a refactor left the speed as it was (e.g. the binary of an older commit, built
with `git worktree add`, against `target/release/ziffer`).
"""
import argparse
import json
import statistics
import subprocess


def epochs(binary, threads, batch, count):
    out = subprocess.run(
        [binary, "bench", "--batch-size", str(batch), "--threads", str(threads),
         "--epochs", str(count), "--skip-peak", "--skip-inference", "--json"],
        check=True, capture_output=True, text=True).stdout
    run = json.loads(out)
    return run["training"][0]["seconds_per_epoch"], run["gflop_per_epoch"], run["machine"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    seconds = {(name, t): [] for name in ("A", "B") for t in threads}
    machine, gflop = "", 0.0
    for r in range(args.rounds):
        for t in threads:
            for name, binary in (("A", args.a), ("B", args.b)):
                s, gflop, machine = epochs(binary, t, args.batch_size, args.epochs)
                seconds[(name, t)].extend(s)
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    print(f"\n{machine}; batch {args.batch_size}; {args.rounds} rounds x {args.epochs} epochs each")
    print(f"A = {args.a}\nB = {args.b}\n")
    print("threads  A s/epoch  B s/epoch  A GFLOP/s  B GFLOP/s   B/A")
    for t in threads:
        a = statistics.median(seconds[("A", t)])
        b = statistics.median(seconds[("B", t)])
        print(f"{t:7}  {a:9.3f}  {b:9.3f}  {gflop / a:9.1f}  {gflop / b:9.1f}  {b / a:5.3f}")


if __name__ == "__main__":
    main()
