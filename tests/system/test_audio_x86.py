"""AC'97 audio on the pc machine with the wav backend, under record/replay
(RR_EV_AUDIO): x86_audio plays 1600 samples and records 1600 from the
input WAV file, printing their FNV-1a hash.

- Record (-audiodev wav,id=snd,path=OUT,in.path=IN -device AC97,audiodev=snd):
  OUT holds exactly the samples the guest played (8 kHz, stereo, its
  pattern), the guest's hash is the hash of IN's first 1600 samples, and
  the log holds audio events.
- Replay with a wav backend and no input file: the same serial output byte
  for byte, the same OUT byte for byte, the final state matches; with
  in.path= it says the file is not read.
- QEMU's -audio wav,model=ac97,path=OUT form without record/replay: the
  same OUT.
- -audiodev pa with no PulseAudio server: a clear error at start.

With --linux: Debian's kernel loads snd-intel8x0 (and the OSS emulation)
on the card, measures its clock (48000: the position follows virtual
time), plays a file through /dev/dsp and records from it; recorded and
replayed with the same serial output and the same WAV file.

usage: test_audio_x86.py X86_AUDIO_IMAGE | --linux"""
import os
import struct
import subprocess
import sys
import tempfile
import wave

from tandemtest import (BUILD, REPO, append_modules, binary, fail, kernel_modules, need, tail,
                        x86_linux_guest)

TLOG = os.path.join(BUILD, "tools", "tandem-log")
N = 1600


def fnv1a(data):
    h = 0x811c9dc5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h


def run(img, extra, rr=None, timeout=120):
    args = [binary("x86_64"), "-M", "pc", "-m", "32M", "-display", "none", "-serial", "stdio",
            "-monitor", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-bios", img] + extra
    if rr:
        args += ["-icount", f"shift=auto,rr={rr[0]},rrfile={rr[1]}"]
    r = subprocess.run(args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def wav_data(path, what):
    if not os.path.exists(path):
        fail(f"{what}: {path} was not written")
    with wave.open(path, "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (2, 2, 8000):
            fail(f"{what}: {path} is {w.getnchannels()} channels, {w.getsampwidth()} bytes, "
                 f"{w.getframerate()} Hz; expected 2, 2, 8000")
        return w.readframes(w.getnframes())


def linux():
    with tempfile.TemporaryDirectory() as tmp:
        kernel, _ = x86_linux_guest(tmp)
        mods = kernel_modules(kernel, ("snd-intel8x0", "snd-pcm-oss"))
        script = os.path.join(tmp, "script.sh")
        with open(script, "w") as f:
            f.write("mount -t devtmpfs devtmpfs /dev\nmount -t proc proc /proc\n")
            for name, _ in mods:
                f.write(f"busybox insmod /lib/modules/{name}.ko || echo insmod {name} failed\n")
            f.write("cat /proc/asound/cards\n"
                    "i=0; while [ $i -lt 2000 ]; do echo -n ABCDEFGHIJKLMNOPQRSTUVWXYZ; "
                    "i=$((i+1)); done > /tmp/pcm\n"
                    "cat /tmp/pcm > /dev/dsp && echo PLAYED\n"
                    "busybox dd if=/dev/dsp of=/tmp/rec bs=4000 count=4 2>/dev/null && "
                    "echo \"RECORDED $(busybox md5sum /tmp/rec)\"\n")
        initrd = os.path.join(tmp, "initramfs.cpio.gz")
        subprocess.run([sys.executable, os.path.join(REPO, "tests", "guests", "linux",
                                                     "mkinitramfs.py"), initrd, "--script",
                        script], check=True)
        append_modules(initrd, mods)
        inwav = os.path.join(tmp, "in.wav")
        with wave.open(inwav, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"".join(struct.pack("<h", (i * 97) % 30000 - 15000)
                                   for i in range(16000)))
        log = os.path.join(tmp, "linux.rr")
        outs = []
        for mode, extra in (("record", f",in.path={inwav}"), ("replay", "")):
            wav = os.path.join(tmp, f"{mode}.wav")
            args = [binary("x86_64"), "-M", "pc", "-m", "256", "-nographic", "-monitor",
                    "none", "-net", "none", "-kernel", kernel, "-initrd", initrd, "-append",
                    "console=ttyS0", "-audiodev", f"wav,id=a,path={wav}{extra}",
                    "-device", "AC97,audiodev=a", "-icount", f"shift=auto,rr={mode},rrfile={log}"]
            r = subprocess.run(args, capture_output=True, timeout=500, stdin=subprocess.DEVNULL)
            out = r.stdout.decode(errors="replace").replace("\r", "")
            err = r.stderr.decode(errors="replace")
            if r.returncode != 0:
                fail(f"linux {mode}: status {r.returncode}:\n{tail(r.stdout, err)}")
            outs.append((out, open(wav, "rb").read()))
        out, wav = outs[0]
        for want in ("Intel 82801AA-ICH with STAC9700", "clocking to 48000", "PLAYED",
                     "RECORDED "):
            if want not in out:
                fail(f"linux: no {want!r} in the guest's output:\n{out[-3000:]}")
        if len(wav) < 44 + 48000 or wav[44:].count(0) == len(wav) - 44:
            fail(f"linux: the WAV output holds {len(wav)} bytes of silence or less")
        if outs[1][0] != out or outs[1][1] != wav:
            fail("linux: the replay's serial output or WAV file differs from the recording's")
        print("PASS linux: snd-intel8x0 measured 48000 Hz, played and recorded through "
              "/dev/dsp; the replay gives the same output and WAV file")


def main():
    if sys.argv[1] == "--linux":
        return linux()
    img = need(sys.argv[1])
    want_play = b"".join(struct.pack("<H", (i * 40503) & 0xffff) for i in range(N))
    with tempfile.TemporaryDirectory() as tmp:
        inwav = os.path.join(tmp, "in.wav")
        with wave.open(inwav, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"".join(struct.pack("<h", (i * 123) % 20000 - 10000)
                                   for i in range(4 * N)))
        with wave.open(inwav, "rb") as w:
            want_hash = fnv1a(w.readframes(N // 2))
        out = os.path.join(tmp, "rec.wav")
        log = os.path.join(tmp, "audio.rr")
        dev = ["-audiodev", f"wav,id=snd,path={out},in.path={inwav}",
               "-device", "AC97,audiodev=snd,addr=4"]
        st, sout, serr = run(img, dev, ("record", log))
        if st != 1 or "PASS" not in sout:
            fail(f"record: status {st}:\n{sout}\n{serr}")
        if f"recorded fnv={want_hash:08x}" not in sout:
            fail(f"the guest recorded other samples than the input file's (want fnv "
                 f"{want_hash:08x}):\n{sout}")
        if wav_data(out, "record") != want_play:
            fail("the WAV output differs from the samples the guest played")
        dump = subprocess.run([TLOG, "dump", log], capture_output=True, text=True).stdout
        audio = [l for l in dump.splitlines() if " audio " in l]
        total = sum(int(l.split("bytes=")[1].split()[0]) for l in audio)
        if total != 2 * N or "source=pcm_in" not in audio[0]:
            fail(f"the log's audio events hold {total} bytes, expected {2 * N}:\n"
                 + "\n".join(audio[:10]))
        print(f"PASS record: output {len(want_play)} bytes as played, input hash "
              f"{want_hash:08x}, {len(audio)} audio events")

        out2 = os.path.join(tmp, "replay.wav")
        st2, sout2, serr2 = run(img, ["-audiodev", f"wav,id=snd,path={out2}",
                                      "-device", "AC97,audiodev=snd,addr=4"], ("replay", log))
        if st2 != st or sout2 != sout or "final state matches the recording" not in serr2:
            fail(f"replay: status {st2}:\n{serr2}\n--- recorded ---\n{sout}\n--- replayed ---\n"
                 f"{sout2}")
        if open(out2, "rb").read() != open(out, "rb").read():
            fail("the replay's WAV output differs from the recording's")
        out3 = os.path.join(tmp, "replay3.wav")
        st3, sout3, serr3 = run(img, ["-audiodev", f"wav,id=snd,path={out3},in.path={inwav}",
                                      "-device", "AC97,audiodev=snd,addr=4"], ("replay", log))
        if st3 != st or sout3 != sout or "in.path=" + inwav + " is not read" not in serr3:
            fail(f"replay with in.path: status {st3}, expected the note that the file is not "
                 f"read:\n{serr3}")
        print("PASS replay: identical serial output and WAV file, input from the log")

        out4 = os.path.join(tmp, "qemu-form.wav")
        st4, sout4, serr4 = run(img, ["-audio", f"wav,model=ac97,path={out4}"])
        if st4 != 1 or wav_data(out4, "-audio") != want_play:
            fail(f"-audio wav,model=ac97: status {st4}, output differs:\n{sout4}\n{serr4}")
        if "recorded fnv=" not in sout4:
            fail(f"-audio: no recording line:\n{sout4}")
        print("PASS -audio wav,model=ac97")

        env = dict(os.environ, PULSE_SERVER="unix:" + os.path.join(tmp, "no-such-socket"))
        r = subprocess.run([binary("x86_64"), "-M", "pc", "-display", "none", "-serial", "null",
                            "-monitor", "none", "-bios", img, "-audiodev", "pa,id=p",
                            "-device", "AC97,audiodev=p"], capture_output=True, text=True,
                           timeout=60, env=env, stdin=subprocess.DEVNULL)
        if r.returncode == 0 or "cannot connect to the PulseAudio server" not in r.stderr:
            fail(f"-audiodev pa without a server: status {r.returncode}:\n{r.stderr}")
        for bad, msg in ((["-audiodev", "wav,id=a,frobnicate=1"], "unknown property 'frobnicate'"),
                         (["-audiodev", "sdl,id=a"], "unknown audio driver 'sdl'"),
                         (["-audio", "none,model=sb16"], "model=sb16 is not supported"),
                         (["-device", "AC97,audiodev=zz", "-audiodev", "none,id=a"],
                          "there is no -audiodev with id=zz")):
            r = subprocess.run([binary("x86_64"), "-M", "pc", "-display", "none", "-serial",
                                "null", "-monitor", "none", "-bios", img] + bad,
                               capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
            if r.returncode == 0 or msg not in r.stderr:
                fail(f"{bad}: status {r.returncode}, expected {msg!r}:\n{r.stderr}")
        print("PASS errors: no PulseAudio server, bad options")


if __name__ == "__main__":
    main()
