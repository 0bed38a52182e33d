"""Debian kernel modules for test initramfs images (tests/kvm/nested.py,
tests/system/test_ide.py): load order from modules.dep, and the module
files decompressed."""
import gzip
import lzma
import os
import re
import shutil
import subprocess


class KmodError(Exception):
    pass


def modname(relpath):
    base = os.path.basename(relpath)
    base = re.sub(r"\.ko(\.(xz|zst|gz))?$", "", base)
    return base.replace("-", "_")


def module_order(moddir, wanted):
    """Relative paths of `wanted` modules and their dependencies, each after
    the modules it needs."""
    deps, byname = {}, {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            mod = mod.strip()
            if not mod:
                continue
            deps[mod] = rest.split()
            byname.setdefault(modname(mod), mod)
    order, seen = [], set()

    def visit(mod, stack):
        if mod in seen:
            return
        if mod in stack:
            raise KmodError("module dependency loop at %s" % mod)
        for d in deps.get(mod, []):
            visit(d, stack | {mod})
        seen.add(mod)
        order.append(mod)

    for w in wanted:
        mod = byname.get(w.replace("-", "_"))
        if not mod:
            raise KmodError("module %s not in %s/modules.dep" % (w, moddir))
        visit(mod, frozenset())
    return order


def read_module(path):
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".gz"):
        with gzip.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        try:
            from compression import zstd  # Python 3.14
            with zstd.open(path) as f:
                return f.read()
        except ImportError:
            pass
        if not shutil.which("zstd"):
            raise KmodError("%s is zstd-compressed: install the Debian "
                               "package zstd" % path)
        return subprocess.run(["zstd", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()
