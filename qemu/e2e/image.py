# SPDX-License-Identifier: GPL-2.0-or-later
"""Builds the e2e guest: Debian's kernel and a busybox initramfs carrying tpm2-tools.

The kernel comes from Debian's linux-image package for the architecture (apt-get download +
dpkg -x); the initramfs (cpio "newc", gzip) holds busybox-static, the host's tpm2-tools with every
library ldd names, the dlopen'ed device TCTI, the dynamic loader, the static tpmtool (tpmtool.c)
and guest-init as /init.  Everything is cached under the work directory and rebuilt only when an
input changes (the stamp is a hash of the inputs).

Per-architecture data lives in ARCHES so another architecture (the ppc64 room) can add an entry;
only x86_64 is filled in here.
"""

import gzip
import hashlib
import os
import shutil
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

ARCHES = {
    "x86_64": {
        "kernel_package": "linux-image-amd64",   # meta package; its dependency is the real one
        "kernel_glob": "vmlinuz-",               # file under /boot in the package
        "dpkg_arch": "amd64",
        "triplet": "x86_64-linux-gnu",
        "cc": "gcc",
        "tpm2_tools": "/usr/bin/tpm2",
        "tcti": "/usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0",
        "busybox": "/bin/busybox",
    },
}


class ImageError(Exception):
    """A missing tool or package, with a one-line message naming it."""


def default_cache_dir():
    env = os.environ.get("QTPM_E2E_CACHE")
    if env:
        return env
    if os.path.isdir("/work") and os.access("/work", os.W_OK):
        return "/work/e2e-cache"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "qtpm-e2e")


def _run(cmd, **kw):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout
    except FileNotFoundError:
        raise ImageError("%s not found (see scripts/install-deps --e2e)" % cmd[0])
    except subprocess.CalledProcessError as e:
        raise ImageError("%s failed: %s" % (" ".join(cmd), (e.stderr or e.stdout).strip()[-300:]))


def _kernel_package_name(meta):
    """The versioned linux-image package the meta package depends on (e.g. linux-image-6.1.0-56-amd64)."""
    out = _run(["apt-cache", "depends", meta])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split()[1]
    raise ImageError("apt-cache knows no kernel behind %s (apt-get update?)" % meta)


def fetch_kernel(cache, arch):
    """Returns the path of the unpacked kernel image, downloading and unpacking it once."""
    a = ARCHES[arch]
    kdir = os.path.join(cache, "kernel-" + arch)
    done = os.path.join(kdir, "vmlinuz")
    if os.path.exists(done):
        return done
    os.makedirs(kdir, exist_ok=True)
    pkg = _kernel_package_name(a["kernel_package"])
    debs = [f for f in os.listdir(kdir) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not debs:
        print("e2e: downloading %s" % pkg, flush=True)
        _run(["apt-get", "download", "%s:%s" % (pkg, a["dpkg_arch"])], cwd=kdir)
        debs = [f for f in os.listdir(kdir) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not debs:
        raise ImageError("apt-get download %s left no .deb in %s" % (pkg, kdir))
    tree = os.path.join(kdir, "unpacked")
    shutil.rmtree(tree, ignore_errors=True)
    _run(["dpkg", "-x", os.path.join(kdir, debs[0]), tree])
    boot = os.path.join(tree, "boot")
    images = [f for f in os.listdir(boot) if f.startswith(a["kernel_glob"])]
    if not images:
        raise ImageError("%s has no /boot/%s*" % (debs[0], a["kernel_glob"]))
    shutil.copy(os.path.join(boot, images[0]), done + ".tmp")
    for f in os.listdir(boot):
        if f.startswith("config-"):
            shutil.copy(os.path.join(boot, f), os.path.join(kdir, "config"))
    os.rename(done + ".tmp", done)
    # The modules are not used (everything the tests need is built in): keep the cache small.
    shutil.rmtree(tree, ignore_errors=True)
    with open(os.path.join(kdir, "package"), "w") as f:
        f.write(debs[0] + "\n")
    return done


def _ldd_libs(path):
    """Absolute paths of the libraries ldd names for path, the loader included."""
    libs = []
    for line in _run(["ldd", path]).splitlines():
        parts = line.split()
        if "=>" in parts:
            target = parts[parts.index("=>") + 1]
            if target.startswith("/"):
                libs.append(target)
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


class Cpio:
    """Writes a cpio archive in the SVR4 "newc" format the kernel's initramfs unpacker reads."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1
        self.names = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        header = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
        self.ino += 1
        self.out += header.encode() + name.encode() + b"\0"
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        name = name.strip("/")
        parent = os.path.dirname(name)
        if parent and parent not in self.names:
            self.dir(parent)
        if name not in self.names:
            self.names.add(name)
            self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, mode=0o755):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        self.names.add(name)
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        self.names.add(name)
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.out)


def _inputs_hash(arch, parts):
    h = hashlib.sha256(arch.encode())
    for p in parts:
        h.update(p.encode())
        st = os.stat(p)
        h.update(b"%d %d" % (st.st_size, int(st.st_mtime)))
    return h.hexdigest()[:16]


def build_tpmtool(cache, arch):
    a = ARCHES[arch]
    src = os.path.join(HERE, "tpmtool.c")
    out = os.path.join(cache, "tpmtool-" + arch)
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    if not shutil.which(a["cc"]):
        raise ImageError("%s not found: needed to build the static tpmtool" % a["cc"])
    _run([a["cc"], "-static", "-O2", "-Wall", "-Wextra", "-o", out + ".tmp", src])
    os.rename(out + ".tmp", out)
    return out


def build_initramfs(cache, arch):
    """Returns the path of the gzip'ed initramfs, building it when an input changed."""
    a = ARCHES[arch]
    for need in (a["busybox"], a["tpm2_tools"], a["tcti"]):
        if not os.path.exists(need):
            raise ImageError("%s is missing (see scripts/install-deps --e2e)" % need)
    tool = build_tpmtool(cache, arch)
    init = os.path.join(HERE, "guest-init")
    libs = []
    for binary in (a["tpm2_tools"], a["tcti"]):
        for lib in [binary] + _ldd_libs(binary):
            if lib not in libs:
                libs.append(lib)
    libs.remove(a["tpm2_tools"])
    out = os.path.join(cache, "initramfs-%s.cpio.gz" % arch)
    stamp = _inputs_hash(arch, [os.path.abspath(__file__), init, tool, a["busybox"],
                                a["tpm2_tools"]] + libs)
    stamp_file = out + ".stamp"
    if os.path.exists(out) and os.path.exists(stamp_file):
        with open(stamp_file) as f:
            if f.read().strip() == stamp:
                return out
    print("e2e: building %s" % out, flush=True)
    c = Cpio()
    for d in ("proc", "sys", "dev", "tmp", "bin", "usr/bin", "usr/local/bin", "etc"):
        c.dir(d)
    c.file("init", open(init, "rb").read())
    c.file("bin/busybox", open(a["busybox"], "rb").read())
    c.symlink("bin/sh", "busybox")
    c.file("usr/local/bin/tpmtool", open(tool, "rb").read())
    tools_dir = os.path.dirname(a["tpm2_tools"])
    c.file(a["tpm2_tools"], open(a["tpm2_tools"], "rb").read())
    for name in sorted(os.listdir(tools_dir)):
        path = os.path.join(tools_dir, name)
        if name.startswith("tpm2_") and os.path.islink(path):
            c.symlink(path, os.readlink(path))
    libdir = "/lib/" + a["triplet"]
    for lib in libs:
        # Libraries go to one real directory under their soname; the loader also keeps the
        # path ELF files name (/lib64/... on x86_64), which on merged-/usr hosts is a symlink.
        base = os.path.basename(lib)
        if base.startswith("ld-linux") or base.startswith("ld64"):
            c.file(libdir + "/" + base, open(os.path.realpath(lib), "rb").read())
            if os.path.dirname(lib) != libdir:
                c.symlink(lib, libdir + "/" + base)
        else:
            c.file(libdir + "/" + base, open(os.path.realpath(lib), "rb").read(), 0o644)
    c.symlink("usr/lib", "../lib")
    data = gzip.compress(c.finish(), compresslevel=6)
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    os.rename(out + ".tmp", out)
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    return out


def build(cache=None, arch="x86_64"):
    """(kernel, initramfs) paths for arch, built or taken from the cache."""
    if arch not in ARCHES:
        raise ImageError("no e2e image recipe for arch %s (have: %s)" % (arch, ", ".join(ARCHES)))
    cache = cache or default_cache_dir()
    os.makedirs(cache, exist_ok=True)
    return fetch_kernel(cache, arch), build_initramfs(cache, arch)


def main():
    import argparse
    ap = argparse.ArgumentParser(description="Builds (or finds in the cache) the e2e guest kernel "
                                 "and initramfs and prints their paths.")
    ap.add_argument("--cache", help="work directory (default: %s)" % default_cache_dir())
    ap.add_argument("--arch", default="x86_64", choices=sorted(ARCHES))
    ap.add_argument("--kernel-only", action="store_true", help="only download/unpack the kernel")
    args = ap.parse_args()
    cache = args.cache or default_cache_dir()
    try:
        if args.kernel_only:
            os.makedirs(cache, exist_ok=True)
            print(fetch_kernel(cache, args.arch))
        else:
            print("\n".join(build(cache, args.arch)))
    except ImageError as e:
        sys.exit("e2e: %s" % e)


if __name__ == "__main__":
    main()
