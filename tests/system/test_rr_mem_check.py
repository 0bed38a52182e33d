"""Memory checks (log format 9) and state checks (format 10;
docs/record-replay.md "Memory checks"): a TSC event may carry a hash of the
guest's RAM, of the CPU's whole state and of each device's, and a replay
whose memory or CPU state differs there stops at that event, before any
register shows it.

Records an x86 test guest that reads the TSC between computations with a
memory check at every TSC event (TANDEM_RR_MEM_CHECK_NS=0), checks that
tandem-log counts and dumps them and that a plain replay passes them all;
then replays with a RAM byte the guest never touches flipped
(-rr-perturb ICOUNT,ram:ADDR) shortly before the second TSC read: no
register shows it, and the replay must stop at that TSC event's memory
check, naming it and both hashes, not at the end; and with XMM15 flipped
(-rr-perturb ICOUNT,gdb:55), which the guest never uses and no event logs,
at that event's state check, naming the CPU's state.

usage: test_rr_mem_check.py IMAGE"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tandemtest import BUILD, fail  # noqa: E402
from test_guest_x86 import tandem_args  # noqa: E402

MEMDIFF = re.compile(r"^tandem: replay diverged at event (\d+) \(tsc, icount (\d+)\): the "
                     r"guest's memory differs from the recording's there \(RAM hash "
                     r"(0x[0-9a-f]+), the log has (0x[0-9a-f]+)\)", re.M)
UNTOUCHED = 0x4000000        # 64 MiB into the guest's 128 MiB
STATEDIFF = re.compile(r"^tandem: replay diverged at event (\d+) \(tsc, icount (\d+)\): the "
                       r"CPU's state differs from the recording's there where the event's "
                       r"registers and memory do not \(state hash (0x[0-9a-f]+), the log has "
                       r"(0x[0-9a-f]+)\)", re.M)
TSC = re.compile(r"^(\d+) tsc icount=(\d+) .* tsc=\d+ ram_hash=(0x[0-9a-f]+) "
                 r"cpu_hash=0x[0-9a-f]+ device_hashes=(0x[0-9a-f]+,)+0x[0-9a-f]+$", re.M)
XMM15 = 55                  # gdb's x86_64 register number


def run(args, env=None):
    return subprocess.run(args, capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
                          env=env)


def perturbed(base, log, spec, pattern, said, index, icount, what, check):
    """Replays with -rr-perturb spec: the replay must stop at event index
    (icount), the first TSC event after it, with pattern's message (two
    different hashes), having said `said`, and not at the end."""
    r = run(base + ["-icount", f"shift=auto,rr=replay,rrfile={log}", "-rr-perturb", spec])
    err = r.stderr.decode(errors="replace")
    m = pattern.search(err)
    if r.returncode == 0 or not m or int(m.group(1)) != index or \
            int(m.group(2)) != icount or m.group(3) == m.group(4) or \
            "diverged at the end" in err or said not in err:
        fail(f"{what}: status {r.returncode}, expected a failed {check} at event {index} "
             f"(icount {icount}):\n{err}")
    return m


def main():
    img = os.path.abspath(sys.argv[1])
    tool = os.path.join(BUILD, "tools", "tandem-log")
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "g.rr")
        base = tandem_args(img)
        env = dict(os.environ, TANDEM_RR_MEM_CHECK_NS="0")
        bad = run(base + ["-icount", f"shift=auto,rr=record,rrfile={log}"],
                  dict(os.environ, TANDEM_RR_MEM_CHECK_NS="soon"))
        if bad.returncode == 0 or b"TANDEM_RR_MEM_CHECK_NS 'soon' is not a number" not in \
                bad.stderr:
            fail(f"a bad TANDEM_RR_MEM_CHECK_NS was not refused: {bad.stderr.decode()}")
        r = run(base + ["-icount", f"shift=auto,rr=record,rrfile={log}"], env)
        if r.returncode != 1:
            fail(f"recording failed (status {r.returncode}): {r.stderr.decode()}")
        info = subprocess.run([tool, "info", log], capture_output=True, text=True).stdout
        dump = subprocess.run([tool, "dump", log], capture_output=True, text=True).stdout
        tscs = [(int(m.group(1)), int(m.group(2))) for m in TSC.finditer(dump)]
        ntsc = re.search(r"^  tsc +(\d+)$", info, re.M)
        if not tscs or not ntsc or int(ntsc.group(1)) != len(tscs) or \
                f"memory checks: {len(tscs)} (TSC events with a RAM hash), {len(tscs)} of " \
                f"them state checks" not in info:
            fail(f"expected a memory check on every TSC event:\n{info}")
        r = run(base + ["-icount", f"shift=auto,rr=replay,rrfile={log}"])
        if r.returncode != 1 or b"final state matches the recording" not in r.stderr:
            fail(f"the plain replay did not pass its memory checks: {r.stderr.decode()}")
        # A byte of RAM the guest never touches, flipped 500 instructions
        # before the second TSC read: its memory check is the first to fail.
        index, icount = tscs[1]
        at = icount - 500
        m = perturbed(base, log, f"{at},ram:{UNTOUCHED:#x}", MEMDIFF,
                      f"perturbed the RAM byte at {UNTOUCHED:#x} at icount {at}", index, icount,
                      f"RAM byte flipped at icount {at}", "memory check")
        s = perturbed(base, log, f"{at},gdb:{XMM15}", STATEDIFF,
                      f"perturbed gdb register {XMM15} at icount {at}", index, icount,
                      f"XMM15 flipped at icount {at}", "state check")
        print(f"PASS: {len(tscs)} memory and state checks recorded and passed; a RAM byte "
              f"flipped at icount {at}: {m.group(0)}; XMM15 flipped there: {s.group(0)}")


if __name__ == "__main__":
    main()
