"""Bad command lines and bad files get a clear message naming the problem,
exit status 1, never a crash."""
import os
import tempfile

from tandemtest import BUILD, binary, fail, run
import subprocess


def expect_error(args, needle, arch="riscv64"):
    r = run(args, arch=arch)
    err = r.stderr.decode(errors="replace")
    if r.returncode != 1:
        fail(f"{args}: exit status {r.returncode}, expected 1; stderr: {err}")
    if needle not in err:
        fail(f"{args}: message {err!r} does not mention {needle!r}")


with tempfile.TemporaryDirectory() as tmp:
    junk = os.path.join(tmp, "junk.elf")
    with open(junk, "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\x00\xf3\x00")   # truncated header
    empty = os.path.join(tmp, "empty.bin")
    open(empty, "wb").close()

    expect_error(["-frobnicate"], "unknown option '-frobnicate'")
    expect_error(["-M", "nosuchboard"], "unknown machine type 'nosuchboard'")
    expect_error(["-m", "lots"], "invalid RAM size 'lots'")
    expect_error(["-bios", "/nonexistent/fw.bin"], "/nonexistent/fw.bin")
    expect_error(["-bios", "none", "-kernel", "/nonexistent/k"], "/nonexistent/k")
    expect_error(["-bios", junk], "junk.elf")
    expect_error(["-serial", "tcp:1:2", "-bios", "none"], "unknown character backend")
    expect_error(["-icount", "shift=99"], "shift '99'")
    expect_error(["-accel", "kvm"], "the virt machine does not support KVM")
    expect_error(["-accel", "kvm", "-icount", "3"], "-icount is not allowed with hardware virtualization")
    expect_error(["-accel", "kvm,switch-test=x"], "switch-test= wants a number (the seed), not 'x'")
    expect_error(["-accel", "kvm,switch-max=5"], "switch-max= and switch-kvm-max= go with "
                 "switch-test=SEED")
    expect_error(["-accel", "kvm,switch-test=1,switch-kvm-max=0"],
                 "switch-kvm-max= wants a number from 1 to 1000000000, not '0'")
    expect_error(["-accel", "kvm,frob=1"], "unknown kvm property 'frob'")
    expect_error(["-accel", "kvm,switch-test=1", "-icount", "shift=0,rr=record,rrfile=/tmp/x"],
                 "switch-test= does not record or replay yet")
    expect_error(["-accel", "kvm,switch-test=1"], "the virt machine does not support KVM")
    expect_error(["-cpu", "cortex-a53"], "unknown CPU model 'cortex-a53'")
    expect_error(["-m", "8G", "-bios", "none"], "does not fit the 32-bit address space", arch="riscv32")

    # No architecture at all: the plain binary asks for one.
    r = subprocess.run([os.path.join(BUILD, "tandem")], capture_output=True)
    if r.returncode != 1 or b"--arch" not in r.stderr:
        fail(f"plain tandem without --arch: {r.returncode} {r.stderr!r}")
    r = run(["-M", "help"])
    if r.returncode != 0 or b"virt" not in r.stdout:
        fail(f"-M help: {r.stdout!r}")
    # An empty firmware image is refused too.
    expect_error(["-bios", empty], "empty.bin")

    # The x86 pc board: what is not there yet says so; bad images and
    # -device options are named.
    odd = os.path.join(tmp, "odd.bin")
    with open(odd, "wb") as f:
        f.write(b"\xf4" * 1000)
    rom = os.path.join(tmp, "rom.bin")
    with open(rom, "wb") as f:
        f.write(b"\xf4" * 65536)
    x86 = "x86_64"
    expect_error(["-M", "pc", "-bios", "none"], "SeaBIOS", arch=x86)
    # Hostile Linux setup headers: each refused with what is wrong.
    def bz_kernel(name, boot_flag=0xaa55, version=0x20f, loadflags=1, setup_sects=4,
                  jump_len=0x66, size=0x4000, cmdline_size=2047):
        img = bytearray(size)
        img[0x1f1] = setup_sects
        img[0x1fe:0x200] = boot_flag.to_bytes(2, "little")
        img[0x201] = jump_len
        img[0x202:0x206] = b"HdrS"
        img[0x206:0x208] = version.to_bytes(2, "little")
        img[0x211] = loadflags
        img[0x238:0x23c] = cmdline_size.to_bytes(4, "little")
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(img)
        return path
    bz_cases = [
        (bz_kernel("bz_flag", boot_flag=0), [], "boot flag"),
        (bz_kernel("bz_old", version=0x201), [], "protocol 2.01"),
        (bz_kernel("bz_zimage", loadflags=0), [], "zImage"),
        (bz_kernel("bz_setup", setup_sects=200), [], "ends inside its"),
        (bz_kernel("bz_jump", jump_len=0xff), [], "setup header length"),
        (bz_kernel("bz_cmd", cmdline_size=10), ["-append", "x" * 64], "command line is 64 bytes"),
        (bz_kernel("bz_big", size=0x4000), ["-initrd", "/nonexistent/initrd"], "/nonexistent/initrd"),
    ]
    for path, extra, msg in bz_cases:
        expect_error(["-M", "pc", "-bios", rom, "-kernel", path] + extra, msg, arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-kernel", rom], "not a multiboot kernel", arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-kernel", "/nonexistent/k"], "/nonexistent/k", arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-initrd", rom], "need -kernel", arch=x86)
    # Hostile multiboot a.out-kludge headers: named, never a crash.
    import struct
    def mb_kernel(name, load, bss_end, header=0x100000):
        path = os.path.join(tmp, name)
        flags = 0x00010000
        with open(path, "wb") as f:
            f.write(struct.pack("<IIIIIIII", 0x1badb002, flags, (-(0x1badb002 + flags)) & 0xffffffff,
                                header, load, 0, bss_end, 0x100020) + b"\0" * 64)
        return path
    expect_error(["-M", "pc", "-bios", rom, "-kernel", mb_kernel("mb1", 0x100000, 0xfffff000)],
                 "is not in RAM", arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-kernel", mb_kernel("mb2", 0x200000, 0)],
                 "is not inside the image", arch=x86)
    expect_error(["-M", "pc", "-bios", odd], "multiple of 64 KiB", arch=x86)
    expect_error(["-M", "pc", "-bios", "/nonexistent/bios.bin"], "/nonexistent/bios.bin", arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-device", "e1000"],
                 "no device 'e1000' (it has: isa-debug-exit, ide-hd, rtl8139, virtio-blk-pci, "
                 "virtio-net-pci)", arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-device", "isa-debug-exit,port=1"], "unknown property 'port'", arch=x86)
    disk = rom + ".disk"
    with open(disk, "wb") as f:
        f.write(b"\0" * (1 << 20))
    pc = ["-M", "pc", "-bios", rom]
    expect_error(pc + ["-drive", f"file={disk},if=none,id=a", "-device", "ide-hd,drive=b"],
                 "no -drive has id=b", arch=x86)
    expect_error(pc + ["-drive", f"file={disk},if=none,id=a", "-device", "ide-hd,drive=a",
                       "-device", "ide-hd,drive=a"], "drive a is already in use", arch=x86)
    expect_error(pc + ["-hda", disk, "-drive", f"file={disk},if=none,id=x",
                       "-device", "ide-hd,drive=x,bus=ide.0,unit=0"],
                 "ide.0 unit 0 already has a disk", arch=x86)
    expect_error(pc + ["-drive", f"file={disk},if=none,id=a,readonly=on", "-device",
                       "ide-hd,drive=a"], "cannot use the read-only image", arch=x86)
    expect_error(pc + ["-drive", "file=/nonexistent.raw"], "cannot open", arch=x86)
    expect_error(pc + ["-drive", f"file={disk},cache=none"], "unsupported parameter 'cache'",
                 arch=x86)
    # virt's disks are virtio-blk: if=ide (the default) is refused, as on QEMU.
    expect_error(["-M", "virt", "-drive", f"file={disk}"], "no disk controller for if=ide")
    virt = ["-M", "virt", "-bios", "none"]
    expect_error(virt + ["-device", "virtio-blk-device"], "give the disk image with drive=ID")
    expect_error(virt + ["-device", "virtio-blk-device,drive=a"], "no -drive has id=a")
    expect_error(virt + ["-drive", f"file={disk},if=none,id=a", "-device",
                         "virtio-blk-device,drive=a,bus=x"], "unknown property 'bus'")
    expect_error(virt + ["-drive", f"file={disk},if=none,id=a", "-device",
                         "virtio-blk-device,drive=a", "-device", "virtio-blk-device,drive=a"],
                 "drive a is already in use")
    expect_error(virt + ["-drive", f"file={disk},if=virtio,id=a", "-device",
                         "virtio-blk-device,drive=a"], "give it if=none")
    expect_error(virt + ["-drive", f"file={disk},if=none,id=a", "-device",
                         "virtio-blk-device,drive=a,serial=123456789012345678901"],
                 "longer than 20")
    expect_error(virt + ["-drive", f"file={disk},if=virtio,index=1"], "index/bus/unit are for")
    expect_error(virt + [a for i in range(9) for a in ("-drive", f"file={disk},if=virtio,snapshot=on")],
                 "all 8 virtio-mmio transports are taken")
    # virtio-blk-pci / virtio-net-pci on pc: drive=, known properties, free slots.
    vd = ["-drive", f"file={disk},if=none,id=a"]
    expect_error(pc + vd + ["-device", "virtio-blk-pci,drive=b"], "no -drive has id=b", arch=x86)
    expect_error(pc + vd + ["-device", "virtio-blk-pci,drive=a,bus=x"], "unknown property 'bus'",
                 arch=x86)
    expect_error(pc + vd + ["-device", "virtio-blk-pci,drive=a,addr=20"], "addr=20", arch=x86)
    expect_error(pc + ["-drive", f"file={disk},if=virtio,id=a", "-device",
                       "virtio-blk-pci,drive=a"], "give it if=none", arch=x86)
    expect_error(pc + vd + ["-netdev", "user,id=n1", "-device", "virtio-blk-pci,drive=a,addr=4",
                            "-device", "virtio-net-pci,netdev=n1,addr=4"],
                 "slot 04.0 is taken", arch=x86)
    expect_error(pc + ["-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1",
                       "-device", "virtio-net-pci,netdev=n1"],
                 "already used by a virtio-net-pci", arch=x86)
    expect_error(pc + ["-device", "virtio-net-pci,netdev=n2"], "no -netdev has id=n2", arch=x86)
    # virtio-net-device: virt only, one per netdev, a unicast mac=, known properties.
    nd = ["-netdev", "user,id=n1"]
    expect_error(virt + nd + ["-device", "virtio-net-device,netdev=n2"], "no -netdev has id=n2")
    expect_error(virt + nd + ["-device", "virtio-net-device,netdev=n1,mac=01:00:00:00:00:01"],
                 "expected a unicast address")
    expect_error(virt + nd + ["-device", "virtio-net-device,netdev=n1,mac=52:54"],
                 "expected a unicast address")
    expect_error(virt + nd + ["-device", "virtio-net-device,netdev=n1,bus=x"],
                 "unknown property 'bus'")
    expect_error(virt + nd + ["-device", "virtio-net-device,netdev=n1", "-device",
                              "virtio-net-device,netdev=n1"], "already used by a virtio-net-device")
    expect_error(virt + [a for i in range(9) for a in ("-device", "virtio-net-device")],
                 "all 8 virtio-mmio transports are taken")
    expect_error(["-M", "pc", "-bios", rom] + nd + ["-device", "virtio-net-device,netdev=n1"],
                 "no device 'virtio-net-device'", arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-device", "isa-debug-exit,iobase=0x3f8"], "taken by another device", arch=x86)
    expect_error(["-M", "pc", "-bios", rom, "-device", "isa-debug-exit,iobase=0xfff0,iosize=0x20"], "do not fit", arch=x86)
    expect_error(["-M", "virt", "-bios", "none", "-device", "isa-debug-exit"], "no device 'isa-debug-exit'")
    # A ROM of HLTs: the CPU halts at the reset vector with nothing to wake
    # it; the run is stopped from outside (SIGTERM -> clean exit).
    p = subprocess.Popen([binary(x86), "-M", "pc", "-bios", rom, "-nographic", "-monitor", "none"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    import time
    time.sleep(1)
    p.terminate()
    out, err = p.communicate(timeout=30)
    if p.returncode not in (0, 1) or b"Segmentation" in err:
        fail(f"halted pc guest stopped by SIGTERM: status {p.returncode}: {err!r}")
print("PASS")
