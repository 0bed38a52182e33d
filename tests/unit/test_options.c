#include <criterion/criterion.h>

#include "vmm/options.h"
#include "block/drive.h"

static bool parse(Options *o, GError **err, int n, ...)
{
    char *argv[32] = { "tandem" };
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    return options_parse(o, n + 1, argv, err);
}

Test(options, qemu_spellings)
{
    Options o;
    GError *err = NULL;
    cr_assert(parse(&o, &err, 13, "-M", "virt", "-m", "512", "-nographic", "-bios", "fw.elf",
                    "-kernel", "k", "-serial", "null", "-append", "console=ttyS0"));
    cr_assert_str_eq(o.machine, "virt");
    cr_assert_eq(o.ram_size, 512ull << 20);
    cr_assert(o.nographic);
    cr_assert_str_eq(o.serial[0], "null");
    cr_assert_str_eq(o.append, "console=ttyS0");
    cr_assert(parse(&o, &err, 4, "-m", "2G", "-icount", "shift=4,sleep=off"));
    cr_assert_eq(o.ram_size, 2ull << 30);
    cr_assert_eq(o.icount_shift, 4);
    cr_assert(!o.icount_sleep);
    cr_assert(parse(&o, &err, 2, "-icount", "shift=auto"));
    cr_assert_eq(o.icount_shift, -1);
    cr_assert(parse(&o, &err, 2, "-machine", "virt,dumpdtb=/tmp/x.dtb"));
    cr_assert_str_eq(o.dump_dtb, "/tmp/x.dtb");
    cr_assert(parse(&o, &err, 2, "-net", "none"));
}

static void expect_error(const char *needle, int n, ...)
{
    char *argv[32] = { "tandem" };
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    Options o;
    GError *err = NULL;
    cr_assert(!options_parse(&o, n + 1, argv, &err), "accepted %s", argv[1]);
    cr_assert_not_null(strstr(err->message, needle), "message '%s' lacks '%s'", err->message, needle);
    g_error_free(err);
}

Test(options, bad_values_named)
{
    expect_error("unknown option '-frobnicate'", 1, "-frobnicate");
    expect_error("-m: invalid RAM size 'lots'", 2, "-m", "lots");
    expect_error("needs an argument", 1, "-kernel");
    expect_error("shift 'x' is not a number", 2, "-icount", "shift=x");
    expect_error("shift '11'", 2, "-icount", "shift=11");
    expect_error("unknown parameter 'foo'", 2, "-icount", "shift=1,foo=2");
    expect_error("unknown accelerator 'xen'", 2, "-accel", "xen");
    expect_error("-icount is not allowed with hardware virtualization", 4, "-accel", "kvm",
                 "-icount", "3");
    expect_error("rr=record is not allowed with -accel kvm", 3, "-enable-kvm", "-icount",
                 "shift=3,rr=record,rrfile=x");
    expect_error("-icount is not allowed", 4, "-M", "pc,accel=kvm:tcg", "-icount", "3");
    expect_error("-smp 2", 2, "-smp", "2");
    expect_error("unknown or unsupported parameter 'cache'", 2, "-drive", "file=x,cache=none");
    expect_error("no file= given", 2, "-drive", "if=none,id=a");
    expect_error("an if=none drive needs id=ID", 2, "-drive", "file=x,if=none");
    expect_error("if=scsi is not supported", 2, "-drive", "file=x,if=scsi");
    expect_error("driver=blkreplay needs image=ID", 2, "-drive", "driver=blkreplay,id=b,if=none");
    expect_error("snapshot=maybe: give on or off", 2, "-drive", "file=x,snapshot=maybe");
    expect_error("index=4 is not a number from 0 to 3", 2, "-drive", "file=x,index=4");
    expect_error("media=cdrom", 2, "-drive", "file=x,media=cdrom");
    expect_error("-display gtk", 2, "-display", "gtk");
    expect_error("unexpected argument", 1, "stray");
}

Test(options, rr_perturb)
{
    Options o;
    GError *err = NULL;
    cr_assert(parse(&o, &err, 2, "-rr-perturb", "1000,3"));
    cr_assert_eq(o.perturb_icount, 1000);
    cr_assert_eq(o.perturb_reg, 3);
    cr_assert(parse(&o, &err, 2, "-rr-perturb", "0x20,ram:0x1ff0"));
    cr_assert_eq(o.perturb_icount, 0x20);
    cr_assert_eq(o.perturb_reg, OPT_PERTURB_RAM);
    cr_assert_eq(o.perturb_addr, 0x1ff0);
    cr_assert(parse(&o, &err, 2, "-rr-perturb", "7,gdb:55"));
    cr_assert_eq(o.perturb_icount, 7);
    cr_assert_eq(o.perturb_reg, OPT_PERTURB_GDB);
    cr_assert_eq(o.perturb_addr, 55);
    cr_assert(parse(&o, &err, 0));
    cr_assert_eq(o.perturb_reg, -1);
    const char *bad[] = { ",3", "5", "5,", "5,32", "5,-1", "5,x", "5,ram:", "5,ram:0x10x",
                          "x,3", "5,gdb:", "5,gdb:x", "5,gdb:1024" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        expect_error("expected ICOUNT,REG with REG 0..31 (0 = pc), ICOUNT,ram:ADDR or "
                     "ICOUNT,gdb:N", 2, "-rr-perturb", bad[i]);
}

Test(options, accelerators)
{
    char *argv[] = { "tandem", "-accel", "kvm", "-accel", "tcg,thread=single", "-icount", "3" };
    Options o;
    GError *err = NULL;
    /* -icount with tcg named first is fine: kvm is never tried. */
    char *argv2[] = { "tandem", "-accel", "tcg", "-enable-kvm", "-icount", "3" };
    cr_assert(options_parse(&o, 6, argv2, &err));
    cr_assert_eq(o.naccel, 2);
    cr_assert_str_eq(o.accel[0], "tcg");
    cr_assert_str_eq(o.accel[1], "kvm");
    cr_assert(options_parse(&o, 5, argv, &err));
    cr_assert_eq(o.naccel, 2);
    cr_assert_str_eq(o.accel[0], "kvm");
    cr_assert_str_eq(o.accel[1], "tcg");
    cr_assert(!options_parse(&o, 7, argv, &err));
    g_clear_error(&err);
    char *argv3[] = { "tandem", "-machine", "pc,accel=kvm:tcg" };
    cr_assert(options_parse(&o, 3, argv3, &err));
    cr_assert_eq(o.naccel, 2);
    cr_assert_str_eq(o.machine, "pc");
}

/* -accel tcg's properties: Tandem's code generator switches, QEMU's
 * no-ops, and errors naming what is wrong. */
Test(options, tcg_properties)
{
    Options o;
    GError *err = NULL;
    cr_assert(parse(&o, &err, 2, "-accel", "tcg,jit=off,thread=single,tb-size=64"));
    cr_assert(o.jit_off);
    cr_assert_eq(o.jit_threshold, 0);
    cr_assert(parse(&o, &err, 2, "-accel", "tcg,jit=on,jit-threshold=1"));
    cr_assert(!o.jit_off);
    cr_assert_eq(o.jit_threshold, 1);
    expect_error("jit= is on or off, not 'yes'", 2, "-accel", "tcg,jit=yes");
    expect_error("jit-threshold= wants a number from 1 to 65535, not '0'", 2, "-accel",
                 "tcg,jit-threshold=0");
    expect_error("jit-threshold= wants a number from 1 to 65535, not '70000'", 2, "-accel",
                 "tcg,jit-threshold=70000");
    expect_error("thread= is single or multi, not 'many'", 2, "-accel", "tcg,thread=many");
    expect_error("unknown tcg property 'bogus'", 2, "-accel", "tcg,bogus=1");
}

Test(options, sizes)
{
    uint64_t v;
    cr_assert(parse_size_mib("128", &v) && v == 128ull << 20);
    cr_assert(parse_size_mib("1.5G", &v) && v == 3ull << 29);
    cr_assert(parse_size_mib("64MiB", &v) && v == 64ull << 20);
    cr_assert(!parse_size_mib("-1", &v));
    cr_assert(!parse_size_mib("12Q", &v));
    cr_assert(!parse_size_mib("", &v));
}

Test(options, device_specs)
{
    Options o;
    GError *err = NULL;
    cr_assert(parse(&o, &err, 4, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                    "-device", "isa-debug-exit"));
    cr_assert_eq(o.ndevices, 2);
    char *drv = device_spec_driver(o.devices[0]);
    cr_assert_str_eq(drv, "isa-debug-exit");
    g_free(drv);
    uint64_t v;
    cr_assert(device_spec_uint(o.devices[0], "iobase", 0x501, 0xffff, &v, &err));
    cr_assert_eq(v, 0xf4);
    cr_assert(device_spec_uint(o.devices[1], "iobase", 0x501, 0xffff, &v, &err));
    cr_assert_eq(v, 0x501);
    static const char *const keys[] = { "iobase", "iosize", NULL };
    cr_assert(device_spec_check(o.devices[0], keys, &err));
    cr_assert(!device_spec_check("isa-debug-exit,port=3", keys, &err));
    cr_assert_not_null(strstr(err->message, "unknown property 'port'"));
    g_clear_error(&err);
    cr_assert(!device_spec_uint("x,iobase=0x10000", "iobase", 0, 0xffff, &v, &err));
    cr_assert_not_null(strstr(err->message, "iobase=0x10000"));
    g_clear_error(&err);
    cr_assert(!device_spec_uint("x,iobase=zz", "iobase", 0, 0xffff, &v, &err));
    g_clear_error(&err);
    expect_error("give a driver name", 2, "-device", ",iobase=1");
}

Test(options, drives)
{
    char *argv[] = { "tandem", "-hda", "a,b.raw", "-drive",
                     "file=disk.qcow2,if=none,snapshot,id=img-direct", "-drive",
                     "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay" };
    Options o;
    GError *err = NULL;
    cr_assert(options_parse(&o, G_N_ELEMENTS(argv), argv, &err));
    cr_assert_eq(o.ndrives, 3);
    cr_assert_str_eq(o.drives[0], "file=a,,b.raw,index=0,media=disk");
    Drive d;
    cr_assert(drive_parse(o.drives[0], &d, NULL));
    cr_assert_str_eq(d.file, "a,b.raw");
    cr_assert_eq(d.index, 0);
    cr_assert_eq(d.iface, DRIVE_IF_IDE);
    drive_clear(&d);
    cr_assert(drive_parse(o.drives[1], &d, NULL));
    cr_assert(d.snapshot);
    cr_assert_eq(d.iface, DRIVE_IF_NONE);
    drive_clear(&d);
    cr_assert(drive_parse(o.drives[2], &d, NULL));
    cr_assert(d.blkreplay);
    cr_assert_str_eq(d.image, "img-direct");
    drive_clear(&d);
    /* Opening: an unknown image id, and rr with blkreplay. */
    const char *bad[] = { "driver=blkreplay,if=none,image=nope,id=b" };
    cr_assert_null(drives_open(bad, 1, 0, false, &err));
    cr_assert(strstr(err->message, "no -drive has that id"), "%s", err->message);
    g_clear_error(&err);
}

Test(options, network)
{
    Options o;
    GError *err = NULL;
    cr_assert(parse(&o, &err, 6, "-netdev", "user,id=n1,hostfwd=tcp::5555-:22", "-device",
                    "rtl8139,netdev=n1", "-object", "filter-replay,id=replay,netdev=n1"));
    cr_assert_eq(o.nnetdevs, 1);
    cr_assert_str_eq(o.netdevs[0], "user,id=n1,hostfwd=tcp::5555-:22");
    cr_assert_eq(o.nobjects, 1);
    cr_assert(!o.net_none);
    cr_assert(parse(&o, &err, 2, "-nic", "none"));
    cr_assert(o.net_none);
    expect_error("-net nic: the card has no network", 2, "-net", "nic");
    expect_error("network backend 'tap' is not supported", 2, "-netdev", "tap,id=t");
    expect_error("object type 'memory-backend-ram' is not supported", 2, "-object",
                 "memory-backend-ram,id=m,size=1G");
    expect_error("needs an argument", 1, "-netdev");
}

/* QEMU's -nic and legacy -net forms become a netdev and its card. */
Test(options, nic_and_legacy_net)
{
    Options o;
    GError *err = NULL;
    cr_assert(parse(&o, &err, 2, "-nic", "user,model=rtl8139,hostfwd=tcp::5555-:22"),
              "%s", err ? err->message : "");
    cr_assert_eq(o.nnetdevs, 1);
    cr_assert_str_eq(o.netdevs[0], "user,hostfwd=tcp::5555-:22,id=__org.qemu.nic0");
    cr_assert_eq(o.ndevices, 1);
    cr_assert_str_eq(o.devices[0], "rtl8139,netdev=__org.qemu.nic0");
    /* No model: the board's card ("nic"); id= names the netdev, for filter-replay. */
    cr_assert(parse(&o, &err, 8, "-nic", "user,id=n1,mac=52:54:00:12:34:99", "-nic", "user",
                    "-object", "filter-replay,id=r1,netdev=n1", "-object",
                    "filter-replay,id=r2,netdev=__org.qemu.nic1"));
    cr_assert_eq(o.nnetdevs, 2);
    cr_assert_str_eq(o.netdevs[0], "user,id=n1");
    cr_assert_str_eq(o.devices[0], "nic,netdev=n1,mac=52:54:00:12:34:99");
    cr_assert_str_eq(o.netdevs[1], "user,id=__org.qemu.nic1");
    cr_assert_str_eq(o.devices[1], "nic,netdev=__org.qemu.nic1");
    cr_assert(parse(&o, &err, 2, "-nic", "user,model=virtio"));
    cr_assert_str_eq(o.devices[0], "virtio-net-pci,netdev=__org.qemu.nic0");
    cr_assert(parse(&o, &err, 2, "-nic", "user,model=virtio-net-pci"));
    cr_assert_str_eq(o.devices[0], "virtio-net-pci,netdev=__org.qemu.nic0");

    /* -net nic and -net user, in either order, joined; the card keeps its place. */
    cr_assert(parse(&o, &err, 8, "-device", "isa-debug-exit", "-net",
                    "nic,model=rtl8139,macaddr=52:54:00:12:34:60,addr=5", "-device", "ide-hd",
                    "-net", "user,hostfwd=udp::7-:7"), "%s", err ? err->message : "");
    cr_assert_eq(o.ndevices, 3);
    cr_assert_str_eq(o.devices[1], "rtl8139,netdev=user.0,mac=52:54:00:12:34:60,addr=5");
    cr_assert_str_eq(o.netdevs[0], "user,hostfwd=udp::7-:7,id=user.0");
    cr_assert(parse(&o, &err, 4, "-net", "user,id=u", "-net", "nic"));
    cr_assert_str_eq(o.devices[0], "nic,netdev=u");
    cr_assert(parse(&o, &err, 4, "-netdev", "user,id=x", "-net", "nic,netdev=x"));
    cr_assert_str_eq(o.devices[0], "nic,netdev=x");
    cr_assert_eq(o.nnetdevs, 1);

    expect_error("-nic tap: network backend 'tap' is not supported", 2, "-nic", "tap");
    expect_error("unknown parameter 'bogus'", 2, "-nic", "user,bogus=1");
    expect_error("bad MAC address '01:00:00:00:00:01'", 2, "-nic", "user,mac=01:00:00:00:00:01");
    expect_error("model= needs one value", 2, "-nic", "user,model=");
    expect_error("one -net user at most", 4, "-net", "user", "-net", "user");
    expect_error("one -net nic without netdev= at most", 6, "-net", "nic", "-net", "nic", "-net",
                 "user");
    expect_error("vlan=1 is not supported", 2, "-net", "nic,vlan=1");
    expect_error("-net tap: 'tap' is not supported", 2, "-net", "tap");
    expect_error("the card has no network", 2, "-net", "nic,model=rtl8139");
}

/* -accel kvm,landing=: how a KVM replay finds the log's events. */
Test(options, kvm_landing)
{
    Options o;
    GError *err = NULL;
    const char *rp = "shift=auto,rr=replay,rrfile=x.rr";
    cr_assert(parse(&o, &err, 4, "-accel", "kvm", "-icount", rp));
    cr_assert_eq(o.kvm_landing, KVM_LAND_AUTO);
    cr_assert(parse(&o, &err, 4, "-accel", "kvm,landing=pmu", "-icount", rp));
    cr_assert_eq(o.kvm_landing, KVM_LAND_PMU);
    cr_assert(parse(&o, &err, 4, "-accel", "kvm,landing=breakpoint", "-icount", rp));
    cr_assert_eq(o.kvm_landing, KVM_LAND_BREAKPOINT);
    cr_assert(parse(&o, &err, 4, "-accel", "kvm,landing=auto", "-icount", rp));
    cr_assert_eq(o.kvm_landing, KVM_LAND_AUTO);
    cr_assert(parse(&o, &err, 4, "-accel", "kvm,landing=step", "-icount", rp));
    cr_assert_eq(o.kvm_landing, KVM_LAND_STEP);
    expect_error("landing= is auto, pmu, breakpoint or step, not 'counter'", 4, "-accel",
                 "kvm,landing=counter", "-icount", rp);
    expect_error("-accel kvm,landing= applies to a replay on KVM", 2, "-accel",
                 "kvm,landing=pmu");
    expect_error("needs free runs to perturb (landing=auto, pmu or breakpoint)", 6, "-accel",
                 "kvm,landing=step", "-icount", rp, "-rr-perturb", "100,3");
}
