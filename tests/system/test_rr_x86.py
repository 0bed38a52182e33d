"""Record/replay of x86 bare-metal guests: record each image with
-icount shift=auto, replay it N times, and require the same serial output,
the same exit code and a log that ends with a complete END event (the
replay checks the final RAM and CPU state hashes itself and fails loudly on
any difference).  The replays alternate the x86 code generator's
settings (default, jit=off, jit-threshold=1).  Also checks that a perturbed replay (one register bit
flipped mid-run with -rr-perturb) is caught, so the check cannot pass
vacuously.  x86_boot reads the time-stamp counter: its log must hold tsc
events (RDTSC is logged with its position, DESIGN.md).

usage: test_rr_x86.py REPLAYS IMAGE..."""
import os
import subprocess
import sys
import tempfile

from tandemtest import BUILD, binary, fail


ACCELS = [None, "tcg,jit=off", "tcg,jit-threshold=1"]


def run(img, icount, extra=()):
    args = [binary("x86_64"), "-M", "pc", "-m", "128M", "-nographic", "-serial", "stdio",
            "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-icount", icount, *extra, "-bios", img]
    r = subprocess.run(args, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def main():
    replays = int(os.environ.get("TANDEM_RR_REPLAYS", sys.argv[1]))
    tool = os.path.join(BUILD, "tools", "tandem-log")
    for img in sys.argv[2:]:
        name = os.path.basename(img)
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "x.rr")
            st, out, err = run(img, f"shift=auto,rr=record,rrfile={log}")
            if st != 1 or "PASS" not in out:
                fail(f"{name}: record run failed (status {st}):\n{out}\n{err}")
            dump = subprocess.run([tool, "dump", log], capture_output=True, text=True).stdout
            end = [l for l in dump.splitlines() if " end " in l]
            if not end or "status=1" not in end[-1]:
                fail(f"{name}: the log has no END event with the exit status:\n{dump[-2000:]}")
            # The replays alternate the code generator's settings: the
            # recording (made with it on) must replay the same either way.
            for i in range(replays):
                accel = ACCELS[i % len(ACCELS)]
                rst, rout, rerr = run(img, f"shift=auto,rr=replay,rrfile={log}",
                                      ["-accel", accel] if accel else [])
                if rst != st or rout != out:
                    fail(f"{name}: replay {i + 1} (-accel {accel or 'default'}) differs "
                         f"(status {rst} vs {st}):\n{rerr}\n"
                         f"--- recorded ---\n{out}\n--- replayed ---\n{rout}")
            if "x86_boot" in name and " tsc " not in dump:
                fail(f"{name}: the guest reads the TSC, but the log has no tsc event:\n{dump[-2000:]}")
            icount = int(end[-1].split("icount=")[1].split()[0])
            # R14 (register 15: RIP, RAX..R15) flipped just before the final
            # instruction survives to the END check.
            at = icount - 1
            rst, rout, rerr = run(img, f"shift=auto,rr=replay,rrfile={log}",
                                  ["-rr-perturb", f"{at},15"])
            if rst == st and "diverge" not in rerr:
                fail(f"{name}: a replay with R14 perturbed at {at} was not caught:\n{rerr}")
            print(f"PASS {name}: recorded {icount} instructions, {replays} identical replays, "
                  f"perturbation caught: {rerr.strip().splitlines()[-1] if rerr.strip() else rst}")


if __name__ == "__main__":
    main()
