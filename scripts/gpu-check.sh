#!/usr/bin/env bash
# The device check: ziffer's CUDA engine on a machine with an NVIDIA GPU, from binaries built
# elsewhere. The GPU machine needs the NVIDIA driver, cuBLAS and NVRTC (system-wide or from pip),
# Python 3 and the repository's data/mnist; no Rust toolchain and no network.
#
# Where Cargo is, build and copy the two binaries next to this script (the integration tests are
# one binary, target/release/deps/suite-<hash>, which `cargo test --no-run` names):
#
#   cargo build --release && cargo test --release --no-run
#   cp target/release/ziffer scripts/ziffer
#   cp "$(cargo test --release --no-run 2>&1 | grep -o '[^ (]*/deps/suite-[0-9a-f]*' | head -n 1)" \
#     scripts/suite
#   strip scripts/ziffer scripts/suite
#
# then, on the GPU machine, from the repository root:
#
#   scripts/gpu-check.sh
#   ZIFFER=path/to/ziffer SUITE=path/to/suite scripts/gpu-check.sh   # binaries kept elsewhere
#   GPU_CHECK_OUT=some/folder scripts/gpu-check.sh                    # keep the logs and JSON there
#
# What it does, each step under a "== " heading: nvidia-smi; where libcuda, libcublas and
# libnvrtc are found (the loader's cache, LD_LIBRARY_PATH, the nvidia/*/lib folders of pip
# packages; a pip folder is put in front of LD_LIBRARY_PATH when libcublas or libnvrtc is found
# only there) and their versions; the CPU-GPU parity tests (`suite cuda::`); `ziffer bench` on
# the GPU; the default training on the GPU; one 784-800-800-10 run of 10 epochs; and, where
# Python has PyTorch, bench/compare.py against PyTorch on the same GPU.
#
# Every step has a time limit and all of them share 340 seconds, so the check ends within 6
# minutes. A failing step is recorded and the next one runs. The last line is the summary:
#
#   gpu-check: nvidia-smi PASS, libraries PASS, parity PASS (24 tests), bench 12.3 ms/epoch,
#   default 98.06% in 9.8 s (127.0 ms/epoch), 800-800 0.110 s/epoch (98.71%), torch 41.0 ms/epoch
#   (ziffer 3.3x faster); PASS
#
# (one line), ending in "; FAIL: " and the failing steps where any failed; a missing PyTorch is a
# skip, not a failure. Exit status 0 when every step passed, 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ziffer=$(realpath -m "${ZIFFER:-$here/ziffer}")
suite=$(realpath -m "${SUITE:-$here/suite}")
cd "$here/.." || exit 1
exec 2>&1                        # one stream, in order: the report reads as it happened

budget=340                       # seconds for every step together, under the 6 minutes
out=${GPU_CHECK_OUT:-$(mktemp -d)}
mkdir -p "$out"
models=$(mktemp -d)
trap 'rm -rf "$models"' EXIT

summary=()                       # one item per step, for the last line
failed=()                        # the names of the steps that failed

pass() { summary+=("$1"); }
fail() { summary+=("$1 FAIL${2:+ ($2)}"); failed+=("$1"); }

# timed LIMIT COMMAND...: COMMAND under `timeout`, for at most LIMIT seconds and never past the
# budget; its exit status is left in `rc` (124: out of time, 125: not started, no time left).
# Its own notes go to stderr, since the caller may send stdout to a JSON file.
timed() {
  local limit=$1 left=$((budget - SECONDS))
  shift
  ((left < limit)) && limit=$left
  if ((limit < 5)); then
    echo "(not run: the check's $budget seconds are used up)" >&2
    rc=125
    return
  fi
  rc=0
  timeout --kill-after=5 "$limit" "$@" || rc=$?
  ((rc == 124 || rc == 137)) && echo "(stopped after $limit s)" >&2
}

# why: the reason for a failure, from `rc`.
why() {
  case $rc in
    124 | 137) echo "timed out" ;;
    125) echo "not run, out of time" ;;
    *) echo "exit $rc" ;;
  esac
}

# figures STEP FILE [SECONDS]: the summary figures of STEP from the JSON it wrote to FILE (and
# its wall time); nothing when FILE holds no such JSON.
figures() {
  python3 - "$@" 2>/dev/null <<'EOF'
import json, statistics, sys
step, path, wall = sys.argv[1], sys.argv[2], sys.argv[3:]
j = json.load(open(path))
if step == "bench":
    print(f"{1000 * j['training'][0]['median_seconds_per_epoch']:.1f} ms/epoch")
elif step == "default":
    per_epoch = statistics.median(e["seconds"] for e in j["epochs"])
    print(f"{100 * j['test_accuracy']:.2f}% in {float(wall[0]):.1f} s ({1000 * per_epoch:.1f} ms/epoch)")
elif step == "800-800":
    per_epoch = statistics.median(e["seconds"] for e in j["epochs"])
    print(f"{per_epoch:.3f} s/epoch ({100 * j['test_accuracy']:.2f}%)")
elif step == "torch":
    median = {s["impl"]: s["median_seconds"] for s in j["summary"]}
    t, z = median["torch"], median["ziffer"]
    faster = f"ziffer {t / z:.1f}x faster" if t >= z else f"ziffer {z / t:.1f}x slower"
    print(f"{1000 * t:.1f} ms/epoch ({faster})")
EOF
}

# need_binary NAME PATH: whether PATH is an executable; says how to make it when not.
need_binary() {
  [[ -x $2 ]] && return 0
  echo "no $1 binary at $2: build it where Cargo is and copy it there (see the top of $0)"
  return 1
}

echo "== nvidia-smi"
if command -v nvidia-smi >/dev/null; then
  timed 20 nvidia-smi
  if ((rc == 0)); then pass "nvidia-smi PASS"; else fail nvidia-smi "$(why)"; fi
else
  echo "nvidia-smi not found: is the NVIDIA driver installed?"
  fail nvidia-smi "not found"
fi

echo
echo "== libraries: libcuda (the driver), libcublas, libnvrtc"
# The nvidia/*/lib folders of the pip packages the system's Python sees (PyTorch's CUDA wheels
# bring cuBLAS and NVRTC this way: nvidia/cu13/lib, or nvidia/cublas/lib and the like).
pip_dirs=()
if command -v python3 >/dev/null; then
  while IFS= read -r dir; do
    for lib in "$dir"/*/lib; do [[ -d $lib ]] && pip_dirs+=("$lib"); done
  done < <(timeout 20 python3 -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null)
fi
IFS=: read -ra ld_dirs <<<"${LD_LIBRARY_PATH:-}"

# where NAME: every lib NAME.so* found, one "place: path" a line.
where() {
  local dir file
  ldconfig -p 2>/dev/null | awk -v n="lib$1.so" 'index($1, n) == 1 { print "ldconfig: " $NF }'
  for dir in "${ld_dirs[@]}"; do
    for file in "$dir"/lib"$1".so*; do [[ -n $dir && -e $file ]] && echo "LD_LIBRARY_PATH: $file"; done
  done
  for dir in "${pip_dirs[@]}"; do
    for file in "$dir"/lib"$1".so*; do [[ -e $file ]] && echo "pip: $file"; done
  done
}

for name in cuda cublas nvrtc; do
  found=$(where "$name")
  echo "lib$name:"
  if [[ -z $found ]]; then
    echo "  not found"
    continue
  fi
  echo "  ${found//$'\n'/$'\n'  }"
  # The loader finds what ldconfig and LD_LIBRARY_PATH offer; a pip folder must be added. The
  # engine is built for CUDA 13 (it asks for lib*.so.13 after lib*.so), so prefer that file.
  if [[ $name != cuda ]] && ! grep -q -v '^pip: ' <<<"$found"; then
    file=$(grep -m 1 "/lib$name\.so\.13" <<<"$found" || head -n 1 <<<"$found")
    dir=$(dirname "${file#pip: }")
    echo "  only in a pip package: $dir put in front of LD_LIBRARY_PATH"
    [[ ":${LD_LIBRARY_PATH:-}:" == *":$dir:"* ]] ||
      export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
done
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
# Which files the loader now picks (as ziffer's engine asks for them: lib*.so, then lib*.so.13,
# ...), their versions, and whether NVRTC is newer than the driver: the driver cannot load PTX
# of a newer CUDA (CUDA_ERROR_UNSUPPORTED_PTX_VERSION), and the engine compiles to PTX.
timed 30 python3 - >"$out/libraries.log" <<'EOF'
import ctypes, sys

def load(name):
    for suffix in ("", ".13", ".12", ".1"):
        try:
            lib = ctypes.CDLL(f"lib{name}.so{suffix}")
        except OSError:
            continue
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if f"/lib{name}.so" in line}
        return lib, ", ".join(sorted(paths)) or f"lib{name}.so{suffix}"
    return None, None

missing, versions = [], {}
for name in ("cuda", "cublas", "nvrtc"):
    lib, path = load(name)
    if lib is None:
        print(f"lib{name}: cannot be loaded")
        missing.append(f"lib{name}")
        continue
    a, b, c = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    try:
        if name == "cuda":
            lib.cuDriverGetVersion(ctypes.byref(a))
            versions[name] = (a.value // 1000, a.value % 1000 // 10)
        elif name == "cublas":
            for kind, out in enumerate((a, b, c)):
                lib.cublasGetProperty(kind, ctypes.byref(out))
            versions[name] = (a.value, b.value, c.value)
        else:
            lib.nvrtcVersion(ctypes.byref(a), ctypes.byref(b))
            versions[name] = (a.value, b.value)
        shown = ".".join(map(str, versions[name]))
    except AttributeError:
        shown = "version unknown"
    label = "CUDA " + shown if name == "cuda" else shown
    print(f"lib{name} loads: {path} ({label})")
driver, nvrtc = versions.get("cuda"), versions.get("nvrtc")
if driver and nvrtc and nvrtc > driver:
    print(f"warning: NVRTC {nvrtc[0]}.{nvrtc[1]} is newer than the driver's CUDA {driver[0]}.{driver[1]}: the "
          "driver may refuse the PTX it writes (CUDA_ERROR_UNSUPPORTED_PTX_VERSION); use an NVRTC no newer "
          "than the driver")
if missing:
    print(f"missing: {', '.join(missing)}")
    sys.exit(1)
EOF
cat "$out/libraries.log"
missing=$(grep -m 1 '^missing: ' "$out/libraries.log")
if ((rc == 0)); then pass "libraries PASS"; else fail libraries "${missing:-$(why)}"; fi

echo
echo "== parity: the CUDA engine against the CPU engine (suite cuda:: --test-threads 1)"
if need_binary suite "$suite"; then
  timed 100 "$suite" cuda:: --test-threads 1 --nocapture >"$out/parity.log" 2>&1
  cat "$out/parity.log"
  tests=$(grep -o 'test result: [a-z]*\. [0-9]* passed' "$out/parity.log" | grep -o '[0-9]* passed' | head -n 1)
  if ((rc != 0)); then
    fail parity "$(why)"
  elif grep -q "skipped" "$out/parity.log"; then
    fail parity "skipped: the tests saw no GPU or library"
  elif [[ -z $tests || $tests == "0 passed" ]]; then
    fail parity "no cuda:: test ran"
  else
    pass "parity PASS (${tests% passed} tests)"
  fi
else
  fail parity "no binary"
fi

echo
echo "== ziffer bench --device cuda (batch 32, the default network, 1 thread, 5 epochs)"
if need_binary ziffer "$ziffer"; then
  timed 60 "$ziffer" bench --device cuda --batch-size 32 --threads 1 --skip-peak --epochs 5 --json \
    >"$out/bench.json"
  cat "$out/bench.json"
  result=$(figures bench "$out/bench.json")
  if ((rc == 0)) && [[ -n $result ]]; then pass "bench $result"; else fail bench "$(why)"; fi
else
  fail bench "no binary"
fi

echo
echo "== the default training on the GPU (ziffer train --device cuda)"
if need_binary ziffer "$ziffer"; then
  start=$(date +%s.%N)
  timed 90 "$ziffer" train --device cuda --out "$models/default.safetensors" --json >"$out/default.json"
  wall=$(python3 -c "print($(date +%s.%N) - $start)")
  result=$(figures default "$out/default.json" "$wall")
  echo "test accuracy and wall time (data loading and kernel compilation included): ${result:-no result}"
  if ((rc == 0)) && [[ -n $result ]]; then pass "default $result"; else fail default "$(why)"; fi
else
  fail default "no binary"
fi

echo
echo "== 784-800-800-10, ReLU, cross-entropy, Nesterov, dropout, elastic distortions, 10 epochs"
if need_binary ziffer "$ziffer"; then
  timed 120 "$ziffer" train --layers 784,800,800,10 --activation relu --loss cross-entropy \
    --optimizer nesterov --lr cosine:0.05x10 --dropout 0.2 --batch-size 64 --augment elastic \
    --epochs 10 --device cuda --out "$models/big.safetensors" --json >"$out/big.json"
  result=$(figures 800-800 "$out/big.json")
  echo "median seconds per epoch and test accuracy: ${result:-no result}"
  if ((rc == 0)) && [[ -n $result ]]; then pass "800-800 $result"; else fail 800-800 "$(why)"; fi
else
  fail 800-800 "no binary"
fi

echo
echo "== against PyTorch on the same GPU (bench/compare.py --device cuda --rounds 3)"
timed 30 python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'
if ((rc == 125)); then
  fail torch "$(why)"
elif ((rc != 0)); then
  echo "no PyTorch for python3: skipped"
  pass "torch skipped (no PyTorch)"
elif need_binary ziffer "$ziffer"; then
  timed 100 python3 bench/compare.py --device cuda --no-build --rounds 3 --ziffer "$ziffer" \
    --out "$out/compare.json"
  result=$(figures torch "$out/compare.json")
  if ((rc == 0)) && [[ -n $result ]]; then pass "torch $result"; else fail torch "$(why)"; fi
else
  fail torch "no binary"
fi

echo
echo "== the default model loaded into torch.nn (scripts/torch_load.py), read as ziffer reads it"
if [[ -f $models/default.safetensors ]] &&
  python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("torch") is None)'; then
  timed 20 "$ziffer" eval --model "$models/default.safetensors" --predictions "$out/default.csv" >/dev/null
  timed 60 python3 scripts/torch_load.py "$models/default.safetensors" "$out/default.csv"
  if ((rc == 0)); then pass "torch.nn PASS"; else fail torch.nn "$(why)"; fi
else
  echo "no trained model or no PyTorch: skipped"
  pass "torch.nn skipped"
fi

echo
echo "logs and JSON in $out; $SECONDS s in all"
line=$(printf '%s, ' "${summary[@]}")
line=${line%, }
if ((${#failed[@]} == 0)); then
  echo "gpu-check: $line; PASS"
else
  echo "gpu-check: $line; FAIL: $(printf '%s, ' "${failed[@]}" | sed 's/, $//')"
  exit 1
fi
