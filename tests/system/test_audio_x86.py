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

usage: test_audio_x86.py X86_AUDIO_IMAGE"""
import os
import struct
import subprocess
import sys
import tempfile
import wave

from tandemtest import BUILD, binary, fail, need

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


def main():
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
