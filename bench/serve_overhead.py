#!/usr/bin/env python3
"""What `ziffer train --serve` costs the training: the same run with and without it, alternately,
round after round, with a page watching (a client reading /api/training/events) in the --serve
runs. Prints the median seconds per epoch of each, over every epoch of every round, and the
slowdown.

    python3 bench/serve_overhead.py [--binary target/release/ziffer] [--rounds 3] [--epochs 5]
        [--limit 30000] [--threads 2]

Only the standard library: run it anywhere the binary runs.
"""
import argparse
import json
import signal
import socket
import os
import statistics
import subprocess
import tempfile
import threading


def watch(addr, counts):
    """Reads the event stream until it ends, counting events by name."""
    host, port = addr.split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(f"GET /api/training/events HTTP/1.0\r\nHost: {addr}\r\n\r\n".encode())
        buffer = b""
        while chunk := s.recv(65536):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.startswith(b"event:"):
                    name = line[6:].strip().decode()
                    counts[name] = counts.get(name, 0) + 1


def run(binary, args, serve):
    command = [binary, "train", "--limit", str(args.limit), "--epochs", str(args.epochs),
               "--validation", "0", "--lr", "3", "--threads", str(args.threads), "--json", "-q",
               "--out", args.out]
    if serve:
        command += ["--serve", "127.0.0.1:0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    counts = {}
    watcher = None
    if serve:
        line = process.stderr.readline()
        addr = line.split("http://")[1].split("/")[0]
        watcher = threading.Thread(target=watch, args=(addr, counts))
        watcher.start()
    text = ""
    depth = 0
    # The JSON object ends the output; with --serve the process then serves until Ctrl-C.
    for line in process.stdout:
        text += line
        depth += line.count("{") - line.count("}")
        if text.strip() and depth == 0:
            break
    if serve:
        watcher.join()
        process.send_signal(signal.SIGINT)
    process.wait()
    report = json.loads(text)
    return [e["seconds"] for e in report["epochs"]], counts


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", default="target/release/ziffer")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--limit", type=int, default=30000)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    args.out = os.path.join(tempfile.mkdtemp(), "serve-overhead.safetensors")
    plain, served = [], []
    for r in range(args.rounds):
        seconds, _ = run(args.binary, args, False)
        plain += seconds
        seconds, counts = run(args.binary, args, True)
        served += seconds
        print(f"round {r + 1}: events seen by the page {counts}")
    a, b = statistics.median(plain), statistics.median(served)
    print(f"median seconds per epoch over {len(plain)} epochs: without --serve {a:.4f}, "
          f"with --serve and a page watching {b:.4f}: {100 * (b / a - 1):+.1f}%")


if __name__ == "__main__":
    main()
