"""Tandem's x86 instruction and conditional-branch counts against a reference.

There is no hardware PMU to ask here (no perf counters, no /dev/kvm), so the
reference is another implementation: QEMU 7.2 (TCG) with our counting plugin
(tests/guests/x86/count/qemu_count_plugin.c), which counts executed
instructions and conditional branches by the rules of interp/icount.md (see
tests/guests/x86/count/README.md for how each count is obtained).

For each image (a 128 KiB x86 test-guest BIOS image; IMAGE.elf next to
IMAGE.bin gives the runtime's IDT stubs, so faults the guest takes on purpose
are accounted for):
  - Tandem runs it with -icount shift=0,rr=record; `tandem-log dump` gives
    the END event's icount and brcount;
  - QEMU runs it with the plugin, which prints "icount N brcount M" at exit;
  - both must pass (guest exit code 0) with the same serial output, and the
    two pairs of counts must be equal.
If the guest prints "COUNT <block> icount=N brcount=M" lines (x86_count.c),
the plugin's marker counts (marks=on) are first checked against those hand
counts: the reference checked against the rules written out by hand.

--random 64|32 does the same for the random instruction-stream guests of
test_random_x86.py (generated and built here for fixed seeds).

usage: test_count_x86.py [--plugin SO] [--trace K] [--random 64|32]
                         [--seeds S,..] [--count N] [IMAGE.bin ...]"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

from tandemtest import BUILD, REPO, fail

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_guest_x86 import guest_code, tandem_args  # noqa: E402

X86 = os.path.join(REPO, "tests", "guests", "x86")
RUN_QEMU = os.path.join(X86, "run_qemu.sh")
TLOG = os.path.join(BUILD, "tools", "tandem-log")
DEFAULT_PLUGIN = os.path.join(BUILD, "tests", "guests", "x86", "count", "qemu_count_plugin.so")
RANDOM_SEEDS = {64: [11, 12, 13, 14, 15], 32: [21, 22, 23, 24, 25]}


def stubs_of(img):
    elf = img[:-4] + ".elf" if img.endswith(".bin") else None
    if not elf or not os.path.exists(elf):
        return None
    nm = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    for line in nm.splitlines():
        p = line.split()
        if len(p) == 3 and p[2] == "rt_trap_stubs_start":
            return int(p[0], 16)
    return None


def run_tandem_counted(img, tmp, timeout=600):
    rr = os.path.join(tmp, os.path.basename(img) + ".rr")
    args = tandem_args(img)
    args[1:1] = ["-icount", f"shift=0,rr=record,rrfile={rr}"]
    try:
        r = subprocess.run(args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", "timeout", None
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    d = subprocess.run([TLOG, "dump", rr], capture_output=True, text=True)
    m = re.search(r"\bend icount=(\d+) brcount=(\d+).*?pc=(0x[0-9a-f]+)", d.stdout)
    counts = (int(m.group(1)), int(m.group(2)), m.group(3)) if m else None
    if counts is None:
        err += f"\ntandem-log dump {rr}: no END event:\n{d.stdout[-2000:]}{d.stderr}"
    return r.returncode, out, err, counts


def run_qemu_counted(img, plugin, tmp, trace=0, marks=False, timeout=600):
    res = os.path.join(tmp, os.path.basename(img) + ".qcount")
    parg = f"{plugin},out={res}"
    stubs = stubs_of(img)
    if stubs is not None:
        parg += f",stubs={stubs:#x}"
    if trace:
        parg += f",trace={trace}"
    if marks:
        parg += ",marks=on"
    r = subprocess.run(["sh", RUN_QEMU, img, "-plugin", parg], capture_output=True,
                       timeout=timeout, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, TIMEOUT=str(timeout - 10)))
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    text = open(res).read() if os.path.exists(res) else ""
    m = re.search(r"^icount (\d+) brcount (\d+)$", text, re.M)
    counts = (int(m.group(1)), int(m.group(2))) if m else None
    detail = next((l for l in text.splitlines() if l.startswith("detail ")), "")
    markers = [(int(p[1]), int(p[2]), p[3]) for p in
               (l.split() for l in text.splitlines() if l.startswith("M "))]
    return r.returncode, out, err, counts, detail, markers, res


def check_hand_counts(name, out, markers):
    """x86_count: each block between two markers against its hand count."""
    want = re.findall(r"^COUNT (\S+) icount=(\d+) brcount=(\d+)", out, re.M)
    if not want:
        return []
    if len(markers) != 2 * len(want):
        return [f"{name}: {len(markers)} markers from the plugin for {len(want)} blocks"]
    bad = []
    for k, (blk, ic, br) in enumerate(want):
        (i0, b0, pc), (i1, b1, _) = markers[2 * k], markers[2 * k + 1]
        gi, gb = i1 - i0 - 1, b1 - b0
        if (gi, gb) != (int(ic), int(br)):
            bad.append(f"{name}: block {blk} at {pc}: plugin counts icount={gi} brcount={gb}, "
                       f"by hand icount={ic} brcount={br}")
    print(f"  {name}: {len(want)} blocks: the plugin agrees with the hand counts"
          if not bad else "\n".join(bad))
    return bad


def random_equivalent(qout, tout, rnd):
    """A random guest's outputs may differ where test_random_x86 allows it
    (flags the SDM leaves undefined, MXCSR.DE, NaN payloads)."""
    import test_random_x86 as trx
    bits, meta = rnd
    qs, qother = trx.parse(qout)
    ts, tother = trx.parse(tout)
    return qother == tother and all(
        not trx.diff_snap(qs.get(i), ts.get(i), meta[i]["undef_flags"], bits)
        for i in range(len(meta)))


def same_print_path(qout, tout):
    """rt_printf prints a number digit by digit through a table: the
    instructions it runs depend on how many digits a value has, not on the
    digits.  True when every differing word has the same length."""
    ql, tl = qout.splitlines(), tout.splitlines()
    return len(ql) == len(tl) and all(
        len(qw) == len(tw) for a, b in zip(ql, tl) if a != b
        for qw, tw in zip(a.split(), b.split()) if qw != tw) and all(
        len(a.split()) == len(b.split()) for a, b in zip(ql, tl))


def check_image(img, plugin, tmp, trace=0, rnd=None):
    name = os.path.basename(img)
    if not os.path.exists(img):
        return [f"{img} was not built"], False
    st, tout, terr, tc = run_tandem_counted(img, tmp)
    if st is None or guest_code(st) != 0 or tc is None:
        return [f"{name} on Tandem: exit status {st}\n{tout[-2000:]}\nstderr:\n{terr[-2000:]}"], False
    qst, qout, qerr, qc, detail, markers, res = run_qemu_counted(img, plugin, tmp, trace,
                                                                 marks=True)
    if qst != 0 or qc is None:
        return [f"{name} on QEMU with the counting plugin: code {qst} (counts {qc})\n"
                f"{qout[-2000:]}\nstderr:\n{qerr[-2000:]}"], False
    problems = check_hand_counts(name, qout, markers)
    norm = lambda s: s.replace("\r\n", "\n").strip()  # noqa: E731
    same = norm(tout) == norm(qout)
    if not same and rnd and random_equivalent(qout, tout, rnd):
        if not same_print_path(norm(qout), norm(tout)):
            print(f"  {name}: not compared: the outputs differ where the random tester "
                  "allows it, and a value has a different number of digits (so printing it "
                  "runs a different number of instructions)")
            return problems, False
        print(f"  {name}: outputs differ only where the random tester allows it, "
              "with the same number of digits")
        same = True
    if not same:
        problems.append(f"{name}: serial output differs between Tandem and QEMU, so the runs "
                        "took different paths and the counts cannot be compared")
    elif (tc[0], tc[1]) != qc:
        problems.append(
            f"{name}: counts differ\n"
            f"  tandem: icount={tc[0]} brcount={tc[1]} (END at pc={tc[2]})\n"
            f"  qemu:   icount={qc[0]} brcount={qc[1]}\n"
            f"  qemu {detail}\n"
            f"  (differences: icount {tc[0] - qc[0]:+d}, brcount {tc[1] - qc[1]:+d}; "
            f"--trace K keeps the plugin's (icount, brcount, pc) every K instructions "
            f"in {res})")
    if not problems:
        print(f"  {name}: icount={tc[0]} brcount={tc[1]} on both ({detail[7:]})")
    return problems, True


def build_random(bits, seeds, count, tmp):
    sys.path.insert(0, os.path.join(X86, "gen"))
    import test_random_x86  # noqa: E402
    imgs = []
    for seed in seeds:
        elf, img, meta = test_random_x86.build(seed, bits, count, tmp)
        imgs.append((img, (bits, meta)))
    return imgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="*")
    ap.add_argument("--plugin", default=os.environ.get("QEMU_COUNT_PLUGIN", DEFAULT_PLUGIN))
    ap.add_argument("--trace", type=int, default=0,
                    help="the plugin writes (icount, brcount, pc) every K instructions")
    ap.add_argument("--random", type=int, choices=(32, 64))
    ap.add_argument("--seeds")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--keep", help="keep the logs, plugin outputs and generated images here")
    a = ap.parse_args()
    if not os.path.exists(a.plugin):
        fail(f"the counting plugin {a.plugin} was not built")
    if not a.images and not a.random:
        fail("no images (and no --random)")
    problems = []
    with tempfile.TemporaryDirectory() as t:
        tmp = a.keep or t
        os.makedirs(tmp, exist_ok=True)
        images = [(i, None) for i in a.images]
        if a.random:
            seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else RANDOM_SEEDS[a.random]
            images += build_random(a.random, seeds, a.count, tmp)
        compared = 0
        for img, rnd in images:
            p, done = check_image(img, a.plugin, tmp, a.trace, rnd)
            problems += p
            compared += done and not p
    if problems:
        fail("\n\n".join(problems))
    if compared == 0:
        fail("no image could be compared")
    print(f"PASS: {compared} of {len(images)} image(s) compared: Tandem's icount and brcount "
          "equal the reference's")


if __name__ == "__main__":
    main()
