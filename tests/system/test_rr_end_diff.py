"""A replay whose memory ends otherwise than the recording's says where
(the end event's RAM map, log format 7): record an x86 test guest, then
replay it with one register flipped a few thousand instructions before
the end (-rr-perturb), trying registers and positions in turn until a
flip changes only memory (a value the guest stores and never reads back).  The replay
must then fail naming the guest-physical range that differs and how many
chunks of the map differ; the map's size must show in tandem-log dump.

usage: test_rr_end_diff.py IMAGE"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tandemtest import BUILD, fail  # noqa: E402
from test_guest_x86 import tandem_args  # noqa: E402

WHERE = re.compile(r"^tandem: replay diverged at the end \(icount \d+\): memory contents differ "
                   r"\(guest-physical (0x[0-9a-f]+|0)-0x[0-9a-f]+(, [^;]*)?; (\d+) of (\d+) "
                   r"64 KiB chunks\);", re.M)


def main():
    img = os.path.abspath(sys.argv[1])
    tool = os.path.join(BUILD, "tools", "tandem-log")
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "g.rr")
        base = tandem_args(img)
        r = subprocess.run(base + ["-icount", f"shift=auto,rr=record,rrfile={log}"],
                           capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        if r.returncode != 1:
            fail(f"recording failed (status {r.returncode}): {r.stderr.decode()}")
        dump = subprocess.run([tool, "dump", log], capture_output=True, text=True).stdout
        end = re.search(r" end icount=(\d+) .* ram_map_chunks=(\d+) ram_map_chunk_bytes=65536",
                        dump)
        if not end:
            fail(f"the end event has no RAM map:\n{dump[-500:]}")
        tried = 0
        for back in (3721, 1000, 2000, 5000, 10000, 20000):
            at = int(end.group(1)) - back
            for reg in range(1, 17):
                tried += 1
                r = subprocess.run(base + ["-icount", f"shift=auto,rr=replay,rrfile={log}",
                                           "-rr-perturb", f"{at},{reg}"],
                                   capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
                err = r.stderr.decode(errors="replace")
                # Never silent: every replay confirms the recording or names
                # a divergence, whatever the guest's own exit status (a guest
                # that failed with status 3 once passed for a truncated log).
                if "final state matches the recording" not in err and \
                        "replay diverged" not in err:
                    fail(f"register {reg} flipped at icount {at}: status {r.returncode}, "
                         f"neither a match nor a divergence reported:\n{err}")
                m = WHERE.search(err)
                if m:
                    if r.returncode == 0 or int(m.group(4)) != int(end.group(2)) or \
                            not 1 <= int(m.group(3)) <= int(m.group(4)):
                        fail(f"register {reg}: status {r.returncode}, message:\n{err}")
                    print(f"PASS: register {reg} flipped at icount {at} ({tried} replays "
                          f"tried): {m.group(0)}")
                    return
        fail(f"no register flip of {tried} changed only memory; the last replay said:\n{err}")


if __name__ == "__main__":
    main()
