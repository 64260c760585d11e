#!/usr/bin/env python3
"""Times ziffer against the same network and training in NumPy, PyTorch and candle, alternately,
and prints a table.

What it is: the driver. It prepares `bench/.venv` (NumPy, threadpoolctl and, unless `--no-torch`,
PyTorch, from PyPI), builds ziffer and (unless `--no-candle`) the candle program in
`bench/candle/`, then for each round runs one training epoch of each implementation in turn for
every thread count, each in a fresh process, so that a slow minute of the machine hits all of them
alike. It prints the medians as a Markdown table and writes every measurement to `--out`.

The implementations: ziffer; the same algorithm written as fast as NumPy and PyTorch allow
(`numpy_mlp.py`, `torch_mlp.py`: hand-written backward, every buffer allocated once); and the
same network and step written the way users of PyTorch and candle write them (`torch_user.py`:
`nn.Sequential`, autograd, `torch.optim.SGD`, a shuffling `DataLoader`; `candle/`: candle-nn's
`Linear`, autograd and `SGD`).
What it is not: the implementations themselves or ziffer's own benchmark (`ziffer bench`, which
this calls). It needs only Python's standard library; NumPy and PyTorch live in the virtual
environment, candle in its own Cargo project.

With `--device cuda` (or `cuda:N`) it compares ziffer's CUDA engine with the PyTorch reference on
the same GPU, and leaves NumPy out. The Python that runs this script is used when it has NumPy
and a PyTorch that sees the GPU (a GPU machine often has them installed and no network);
otherwise `bench/.venv`, prepared as on the CPU. Each process trains two epochs and the second is
timed: the first pays the GPU's one-time start-up (the CUDA context, cuBLAS, loading or compiling
the kernels), which says nothing about training speed.

    python3 bench/compare.py                      # 5 rounds, 1 and 2 threads, batch size 32
    python3 bench/compare.py --no-torch           # NumPy only
    python3 bench/compare.py --rounds 1 --threads 1
    python3 bench/compare.py --device cuda        # ziffer and PyTorch on the GPU, 1 thread
"""

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
ZIFFER = ROOT / "target" / "release" / "ziffer"
CANDLE = BENCH / "candle"
CANDLE_BINARY = CANDLE / "target" / "release" / "candle-mlp"
# OpenBLAS settings that older OpenBLAS builds need on some CPUs but that make NumPy's current
# OpenBLAS pick a slower kernel: they are removed for the NumPy reference's process only.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
IMPLS = ("ziffer", "numpy", "torch", "torch-user", "candle")
# What each is, as the table says it.
LABELS = {
    "numpy": "(hand-optimised)",
    "torch": "(hand-optimised)",
    "torch-user": "as users write it: nn.Sequential, autograd, optim.SGD, DataLoader",
    "candle": "as users write it: candle-nn Linear, autograd, SGD",
}
TORCH_IMPLS = ("torch", "torch-user")
CUDA_IMPLS = ("ziffer", "torch")  # NumPy has no GPU
# What a Python needs to be the GPU reference, and what it tells about its PyTorch and GPU.
CUDA_PROBE = """import json, numpy, torch
ok = torch.cuda.is_available()
print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda, "available": ok,
                  "names": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if ok else []}))"""


def device(text):
    if not re.fullmatch(r"cpu|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N (e.g. cuda:0), got {text!r}")
    return text


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of one epoch per implementation (default 5)")
    parser.add_argument(
        "--threads", help="thread counts, comma-separated (default 1,2; 1 with --device cuda)",
        type=lambda s: [int(v) for v in s.split(",")],
    )
    parser.add_argument("--batch-size", type=int, default=32, help="images per mini-batch (default 32)")
    parser.add_argument(
        "--layers", default="784,128,64,10", help="layer sizes, input first (default 784,128,64,10)"
    )
    parser.add_argument("--data", type=Path, help="MNIST folder (default: the bundled data/mnist)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out (no 3 GB install)")
    parser.add_argument("--no-candle", action="store_true", help="leave candle out (no build of bench/candle)")
    parser.add_argument("--no-build", action="store_true", help="use target/release/ziffer as it is")
    parser.add_argument(
        "--ziffer", type=Path, help="time this ziffer binary instead of target/release/ziffer (nothing is built)"
    )
    parser.add_argument(
        "--device", type=device, default="cpu",
        help="cpu, or cuda[:N]: ziffer's CUDA engine against PyTorch on that GPU, without NumPy (default cpu)",
    )
    parser.add_argument(
        "--out", type=Path, default=BENCH / "results.json", help="where to write the raw results (default bench/results.json)"
    )
    args = parser.parse_args()
    args.cuda = args.device != "cpu"
    if args.threads is None:
        args.threads = [1] if args.cuda else [1, 2]
    if args.rounds < 1 or args.batch_size < 1 or min(args.threads) < 1:
        parser.error("--rounds, --batch-size and --threads must be at least 1")
    if args.cuda and args.no_torch:
        parser.error("--device cuda compares with PyTorch on the GPU: drop --no-torch")
    # Epochs each process trains, and the last is timed: on the GPU the first pays the start-up.
    args.epochs = 2 if args.cuda else 1
    if args.ziffer is None:
        args.ziffer = ZIFFER
    else:
        args.no_build = True
    return args


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, env=None, timeout=900):
    """Runs `command`, returns its stdout; stops with its stderr if it fails."""
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        output = "\n".join(o.strip() for o in (result.stdout, result.stderr) if o.strip())
        sys.exit(f"error: `{' '.join(map(str, command))}` failed (exit {result.returncode}):\n{output}")
    return result.stdout


def prepare_venv(with_torch):
    """Creates `bench/.venv` if needed and installs the requirements, unless the same files were
    installed before (a stamp with their hash). Returns whether PyTorch is usable."""
    python = VENV / "bin" / "python"
    if not python.exists():
        log(f"creating the virtual environment {VENV.relative_to(ROOT)}")
        venv.create(VENV, with_pip=True)
    files = [BENCH / "requirements.txt"] + ([BENCH / "requirements-torch.txt"] if with_torch else [])
    for f in files:
        stamp = VENV / f".installed-{f.name}"
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest:
            continue
        log(f"installing {f.relative_to(ROOT)} into {VENV.relative_to(ROOT)}"
            + (" (PyTorch's default wheel is about 3 GB to download, 5.4 GB installed)" if "torch" in f.name else ""))
        start = time.time()
        result = subprocess.run([python, "-m", "pip", "install", "-q", "-r", f], cwd=ROOT)
        if result.returncode != 0:
            if "torch" in f.name:
                log("warning: PyTorch did not install; comparing with NumPy only (see the pip output above)")
                return False
            sys.exit(f"error: cannot install {f.name} into {VENV} (see the pip output above)")
        log(f"  done in {time.time() - start:.0f} s")
        stamp.write_text(digest)
    return with_torch


def probe_cuda(python):
    """What `python` says of its PyTorch and the GPU (`CUDA_PROBE`), or None where it cannot
    import NumPy or PyTorch."""
    result = subprocess.run([python, "-c", CUDA_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare_cuda_python(args):
    """The Python that runs the PyTorch reference on the GPU, and what it says of the GPU: this
    script's own if it has NumPy and a PyTorch that sees a GPU, else `bench/.venv` (prepared as
    on the CPU). Stops with a message where PyTorch sees no GPU."""
    if not Path("/proc/driver/nvidia").exists() and shutil.which("nvidia-smi") is None:
        sys.exit(f"error: --device {args.device}: no NVIDIA driver found (no /proc/driver/nvidia, no nvidia-smi): "
                 "run this on a machine with an NVIDIA GPU and its driver")
    python = sys.executable
    found = probe_cuda(python)
    if found is None or found["cuda"] is None:
        # no NumPy or PyTorch here, or a CPU-only PyTorch: PyPI's default wheel is a CUDA build
        if not prepare_venv(with_torch=True):
            sys.exit(f"error: --device {args.device} needs PyTorch, which did not install (see the pip output above)")
        python = str(VENV / "bin" / "python")
        found = probe_cuda(python)
        if found is None:
            sys.exit(f"error: {python} cannot import NumPy and PyTorch")
    if not found["available"]:
        sys.exit(f"error: --device {args.device}: PyTorch {found['torch']} (CUDA {found['cuda']}) in {python} "
                 "finds no usable NVIDIA GPU: no driver, a driver too old for this CUDA, or CUDA_VISIBLE_DEVICES "
                 "hides it; `nvidia-smi` shows what the driver sees")
    index = int(args.device.split(":")[1]) if ":" in args.device else 0
    if index >= len(found["names"]):
        sys.exit(f"error: --device {args.device}: PyTorch sees {len(found['names'])} CUDA device(s), numbered from 0")
    found["name"] = found["names"][index]
    log(f"PyTorch {found['torch']} (CUDA {found['cuda']}) from {python}, GPU {found['name']}")
    return python, found


def machine():
    model = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "system": platform.platform()}


def cpu_counters():
    """`(busy, total, ours)`: CPU seconds all programs have used and there have been, from
    /proc/stat, and CPU seconds this script's finished child processes have used."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = sum(fields) / tick
    return total - (fields[3] + fields[4]) / tick, total, children.ru_utime + children.ru_stime


def others_share(before, after):
    """The fraction of all CPU time between two `cpu_counters()` that other programs used (None
    where /proc/stat cannot be read)."""
    if before is None or after is None:
        return None
    busy, total, ours = (b - a for a, b in zip(before, after))
    return max(0.0, busy - ours) / max(total, 1e-9)


def try_cpu_counters():
    try:
        return cpu_counters()
    except (OSError, ValueError):
        return None


def cpu_busy(seconds=1.0):
    """The fraction of CPU time that other programs use now, sampled over `seconds`."""
    before = try_cpu_counters()
    time.sleep(seconds)
    return others_share(before, try_cpu_counters())


def time_ziffer(args, threads):
    command = [args.ziffer, "bench", "--batch-size", args.batch_size, "--threads", threads, "--epochs", args.epochs,
               "--layers", args.layers, "--skip-peak", "--skip-inference", "--json"]
    if args.data:
        command += ["--data", args.data]
    if args.cuda:
        command += ["--device", args.device]
    out = json.loads(run([str(c) for c in command]))
    row = out["training"][0]
    result = {"seconds": row["seconds_per_epoch"][-1], "blas": out.get("gemm", "?"), "test_accuracy": None}
    if args.cuda:
        result["device"] = row.get("device") or out.get("device") or args.device
    return result


def candle_versions():
    """`(candle, gemm)`: the versions of candle-core and of the `gemm` crate that does its CPU
    products, from `bench/candle/Cargo.lock`."""
    lock = (CANDLE / "Cargo.lock").read_text()
    found = dict(re.findall(r'name = "(candle-core|gemm)"\nversion = "([^"]+)"', lock))
    return found.get("candle-core", "?"), found.get("gemm", "?")


def build_candle():
    """Builds the candle program (its own workspace); returns whether it is there to time."""
    log("building the candle program (cargo build --release in bench/candle; the first build takes minutes)")
    result = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=CANDLE, capture_output=True, text=True)
    if result.returncode != 0:
        log("warning: the candle program did not build; leaving candle out:\n" + result.stderr.strip()[-2000:])
        return False
    return CANDLE_BINARY.exists()


def time_reference(args, python, impl, threads):
    if impl == "candle":
        command = [CANDLE_BINARY]
    else:
        script = "torch_user.py" if impl == "torch-user" else f"{impl}_mlp.py"
        command = [python, BENCH / script]
    command += ["--epochs", args.epochs, "--batch-size", args.batch_size, "--threads", threads,
                "--layers", args.layers, "--json"]
    if args.data:
        command += ["--data", args.data]
    if args.cuda:
        command += ["--device", args.device]
    env = dict(os.environ)
    if impl == "numpy":
        for name in OPENBLAS_OVERRIDES:
            env.pop(name, None)
    out = json.loads(run([str(c) for c in command], env=env))
    if impl == "candle":
        candle, gemm = candle_versions()
        out.update(version=candle, blas=f"gemm {gemm} (candle's CPU matmul)")
    result = {"seconds": out["seconds_per_epoch"][-1], "blas": out["blas"], "test_accuracy": out["test_accuracy"],
              "version": out["version"], "blas_threads": out.get("blas_threads")}
    if args.cuda:
        result["device"] = args.device
    return result


def ziffer_accuracy(args):
    """ziffer's test accuracy after the same epochs at the same rate (not timed: `bench` does not
    report it), so that the table shows all of them learn alike."""
    with tempfile.TemporaryDirectory() as tmp:
        # on all 60,000 training images, as `ziffer bench` and the others train: no validation split
        command = [args.ziffer, "train", "--epochs", args.epochs, "--lr", 3, "--batch-size", args.batch_size,
                   "--layers", args.layers, "--validation", 0, "--out", Path(tmp) / "model.safetensors", "--json",
                   "--quiet"]
        if args.data:
            command += ["--data", args.data]
        if args.cuda:
            command += ["--device", args.device]
        return json.loads(run([str(c) for c in command]))["test_accuracy"]


def ratio_text(reference, ziffer):
    r = reference / ziffer
    return f"ziffer is {r:.1f}x faster" if r >= 1 else f"ziffer is {1 / r:.1f}x slower"


def main():
    args = parse_args()
    gpu = None
    if args.cuda:
        impls = list(CUDA_IMPLS)
        python, gpu = prepare_cuda_python(args)
    else:
        impls = [i for i in IMPLS if not (i in TORCH_IMPLS and args.no_torch or i == "candle" and args.no_candle)]
        if not prepare_venv(with_torch="torch" in impls):
            impls = [i for i in impls if i not in TORCH_IMPLS]
        python = str(VENV / "bin" / "python")
        if "candle" in impls and not build_candle():
            impls.remove("candle")
    log("checking the references against a naive version (bench/check_references.py)")
    check = [python, str(BENCH / "check_references.py")]
    log(run(check + ([] if "torch" in impls else ["--no-torch"])).rstrip())
    if not args.no_build:
        log("building ziffer (cargo build --release)")
        run(["cargo", "build", "--release", "--quiet"])
    if not args.ziffer.exists():
        if args.ziffer == ZIFFER:
            sys.exit(f"error: {ZIFFER} not found: run `cargo build --release` (or drop --no-build)")
        sys.exit(f"error: --ziffer {args.ziffer}: no such file")
    busy = cpu_busy()
    if busy is not None and busy > 0.1:
        log(f"warning: the CPUs are {100 * busy:.0f}% busy with other programs: timings will be noisy "
            "(PyTorch's OpenMP threads, which spin while they wait, suffer most)")

    runs = []
    counters = try_cpu_counters()
    for r in range(1, args.rounds + 1):
        for threads in args.threads:
            line = []
            for impl in impls:
                result = time_ziffer(args, threads) if impl == "ziffer" else time_reference(args, python, impl, threads)
                runs.append({"round": r, "impl": impl, "threads": threads, "batch_size": args.batch_size, **result})
                line.append(f"{impl} {result['seconds']:.3f} s")
            log(f"round {r}/{args.rounds}, {threads} thread(s): " + ", ".join(line))
    others = others_share(counters, try_cpu_counters())
    if others is not None and others > 0.05:
        log(f"warning: other programs used {100 * others:.0f}% of the CPUs while the epochs ran: "
            "the timings are noisy; run again on a quiet machine")
    accuracy = {"ziffer": ziffer_accuracy(args)}

    versions = {
        "ziffer": run([str(args.ziffer), "--version"]).split()[-1],
        "ziffer_commit": subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                                        capture_output=True, text=True).stdout.strip() or None,
        "python": platform.python_version(),
    }
    summary = []
    for threads in args.threads:
        for impl in impls:
            mine = [x for x in runs if x["impl"] == impl and x["threads"] == threads]
            seconds = [x["seconds"] for x in mine]
            last = mine[-1]
            if impl != "ziffer":
                versions[impl] = last["version"]
                accuracy[impl] = statistics.median(x["test_accuracy"] for x in mine)
            summary.append({"impl": impl, "threads": threads, "batch_size": args.batch_size, "blas": last["blas"],
                            "median_seconds": statistics.median(seconds), "min_seconds": min(seconds),
                            "runs": len(seconds), "test_accuracy": accuracy[impl]})
            if args.cuda:
                summary[-1]["device"] = last["device"]

    info = machine()
    if gpu:
        info["gpu"] = gpu["name"]
    sys.stderr.flush()
    print(f"Machine: {info['cpu']}, {info['cores']} cores ({info['system']})")
    if gpu:
        print(f"GPU: {gpu['name']} ({args.device}; PyTorch built for CUDA {gpu['cuda']})")
    shown = {k: v for k, v in versions.items() if k != "ziffer_commit"}
    if versions["ziffer_commit"]:
        shown["ziffer"] += f" ({versions['ziffer_commit']})"
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    epochs = "1 epoch" if args.epochs == 1 else f"{args.epochs} epochs"
    if args.cuda:
        print(f"Network {args.layers.replace(',', '-')} sigmoid, batch size {args.batch_size}, 60,000 images an epoch, "
              f"on the GPU ({args.device}); median and minimum of {args.rounds} epoch(s), each the last of "
              f"{epochs} in a fresh process (the first pays the GPU's start-up), {', '.join(impls)} alternately\n")
        print(f"| implementation | device | BLAS/GEMM | threads | median s/epoch | min s/epoch | ziffer vs this "
              f"| test accuracy after {epochs} |")
        print("| --- | --- | --- | ---: | ---: | ---: | --- | ---: |")
    else:
        print(f"Network {args.layers.replace(',', '-')} sigmoid, batch size {args.batch_size}, 60,000 images an epoch; "
              f"median and minimum of {args.rounds} epoch(s), each in a fresh process, "
              f"{', '.join(impls)} alternately\n")
        print(f"| implementation | BLAS/GEMM | threads | median s/epoch | min s/epoch | ziffer vs this "
              f"| test accuracy after {epochs} |")
        print("| --- | --- | ---: | ---: | ---: | --- | ---: |")
    for s in summary:
        base = next(x for x in summary if x["impl"] == "ziffer" and x["threads"] == s["threads"])
        ratio = "—" if s["impl"] == "ziffer" else ratio_text(s["median_seconds"], base["median_seconds"])
        acc = f"{100 * s['test_accuracy']:.2f}%" if s["test_accuracy"] is not None else "—"
        where = f" {s['device']} |" if args.cuda else ""
        name = f"{s['impl'].split('-')[0]} {versions[s['impl']]} {LABELS.get(s['impl'], '')}".rstrip()
        print(f"| {name} |{where} {s['blas']} | {s['threads']} | {s['median_seconds']:.3f} | "
              f"{s['min_seconds']:.3f} | {ratio} | {acc} |")
    train = f"ziffer train --epochs {args.epochs} --lr 3 --validation 0" + (f" --device {args.device}" if args.cuda else "")
    print(f"\nziffer's accuracy is from a separate, untimed `{train}` (same seed, "
          "other random numbers than the others; those written as users write them also start from their "
          "library's default initialisation).")

    settings = {"rounds": args.rounds, "threads": args.threads, "batch_size": args.batch_size, "layers": args.layers}
    if args.cuda:
        settings.update({"device": args.device, "epochs_per_process": args.epochs, "timed": "the last epoch"})
    else:
        settings["unset_for_numpy"] = list(OPENBLAS_OVERRIDES)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": info, "versions": versions,
        "cpu_share_of_other_programs": others,
        "settings": settings,
        "summary": summary, "runs": runs,
    }, indent=2) + "\n")
    log(f"raw results written to {args.out}")


if __name__ == "__main__":
    main()
