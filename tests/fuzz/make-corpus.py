#!/usr/bin/python3
# make-corpus.py (host tool): writes the small seed inputs in tests/fuzz/corpus/<target>/.
# Re-run after changing a harness's input format: /usr/bin/python3 tests/fuzz/make-corpus.py
# Each seed is a valid (or nearly valid) input, so the fuzzer starts from deep paths.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def bootconfig():
    put("bootconfig", "two-domains",
        "# two guests\n"
        "domain canary\n    kernel act64.elf\n    cmdline act=canary beats=5\n"
        "    memory 16\n    vcpus 1\n\n"
        "domain fuzz\r\n\tkernel fuzz64.elf\r\n\tinitrd rd.cpio\r\n\tmemory 64\r\n\tvcpus 2\r\n")
    put("bootconfig", "bad-key", "domain a\nkernel k\nmemory 99999999999999999999\n")
    put("bootconfig", "no-newline", "domain x\n kernel y")
    put("bootconfig", "roles",
        "domain xs\n kernel xenstored.elf\n roles xenstore\n memory 16\n"
        "domain ctl\n kernel ctl64.elf\n roles control,backend\n paused\n"
        " max_grant_frames 32\n max_maptrack_frames 0\n"
        "domain bad\n kernel k\n roles xenstore,\n")
    put("bootconfig", "devices",
        "domain xs\n kernel x\n roles xenstore\ndomain svc\n kernel s\n roles control,backend\n"
        "domain g\n kernel k\n disk format=raw, vdev=xvda, access=rw, target=d0.img\n"
        " disk = [ 'target=d1.img,vdev=xvdq,access=ro', \"vdev=xvdb,target=d2\" ]\n"
        " vif mac=00:16:3e:00:03:00\n vif=[ '', 'mac=02:00:00:00:00:01' ]\n")
    put("bootconfig", "scheduling",
        "domain a\n kernel k\n weight 512\n cap 50\n cpus 0-3,6,63\n"
        "domain b\n kernel k\n weight 65535\n cap 800\n cpus all\n"
        "domain c\n kernel k\n cpus 7-2\n")


def cmdline():
    put("cmdline", "mixed", 'flag no-other num=0x10 str="a b" tiny= unknown=1')
    put("cmdline", "bad", 'num=18446744073709551616 no-num str="open flag=yes')


# Multiboot: the harness maps the input (after its first byte) at 0x1000.
MB_BASE = 0x1000


def multiboot():
    # v1 (selector byte 0): flags mem|cmdline|mods|mmap|loader; strings and tables after the info.
    info_len = 0x78
    cmd_at = info_len
    cmd = b"console=com1 config=wisp.cfg\0"
    name_at = cmd_at + len(cmd)
    name = b"GRUB\0"
    mods_at = name_at + len(name)
    modstr_at = mods_at + 16
    modstr = b"/boot/guest.elf guest.elf\0"
    mmap_at = modstr_at + len(modstr)
    mmap = struct.pack("<IQQI", 20, 0, 0x9F000, 1) + struct.pack("<IQQI", 20, 0x100000, 0x7F00000, 1)
    info = bytearray(info_len)
    struct.pack_into("<III", info, 0, 0x1 | 0x4 | 0x8 | 0x40 | 0x200, 639, 130048)
    struct.pack_into("<I", info, 16, MB_BASE + cmd_at)
    struct.pack_into("<II", info, 20, 1, MB_BASE + mods_at)
    struct.pack_into("<II", info, 44, len(mmap), MB_BASE + mmap_at)
    struct.pack_into("<I", info, 64, MB_BASE + name_at)
    mods = struct.pack("<IIII", 0x200000, 0x201000, MB_BASE + modstr_at, 0)
    put("multiboot", "v1", b"\0" + bytes(info) + cmd + name + mods + modstr + mmap)

    # v2 (selector byte 1): total_size, reserved, tags, each padded to 8.
    def tag(t, payload):
        body = struct.pack("<II", t, 8 + len(payload)) + payload
        return body + b"\0" * (-len(body) % 8)
    tags = tag(1, b"console=com1\0") + tag(2, b"GRUB 2.06\0")
    tags += tag(3, struct.pack("<II", 0x200000, 0x280000) + b"/boot/wisp.cfg wisp.cfg\0")
    tags += tag(6, struct.pack("<II", 24, 0) + struct.pack("<QQII", 0, 0x9F000, 1, 0)
                + struct.pack("<QQII", 0x100000, 0x7F00000, 1, 0))
    tags += struct.pack("<II", 0, 8)
    put("multiboot", "v2", b"\1" + struct.pack("<II", 8 + len(tags), 0) + tags)


def elf():
    note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x100010)
    code = b"\xf4" * 16
    # ELF64: header, two phdrs (PT_LOAD, PT_NOTE), code, note.
    ph_off, n_ph = 64, 2
    code_off = ph_off + 56 * n_ph
    note_off = code_off + len(code)
    eh = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    eh += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100010, ph_off, 0, 0, 64, 56, n_ph, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", 1, 5, code_off, 0x100010, 0x100010, len(code), 0x2000, 0x1000)
    ph += struct.pack("<IIQQQQQQ", 4, 4, note_off, 0, 0, len(note), len(note), 4)
    put("elf", "elf64", eh + ph + code + note)
    # ELF32 (EM_386), the same image.
    ph_off = 52
    code_off = ph_off + 32 * n_ph
    note_off = code_off + len(code)
    eh = b"\x7fELF" + bytes([1, 1, 1]) + b"\0" * 9
    eh += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0x100010, ph_off, 0, 0, 52, 32, n_ph, 40, 0, 0)
    ph = struct.pack("<IIIIIIII", 1, code_off, 0x100010, 0x100010, len(code), 0x2000, 5, 0x1000)
    ph += struct.pack("<IIIIIIII", 4, note_off, 0, 0, len(note), len(note), 4, 4)
    put("elf", "elf32", eh + ph + code + note)


def start_info():
    # ram_size selector (even: u32 pages), image lo, hi, initrd size, initrd present,
    # rsdp, flags, reserved count, ranges, then the command line.
    def edge_raw(v):
        return b"\0" + struct.pack("<Q", v)   # selector < 128: the raw 64-bit value
    seed = b"\0" + struct.pack("<I", 0x8000)              # 128 MiB
    seed += edge_raw(0x100000) + b"\0" + struct.pack("<I", 0x40000)
    seed += struct.pack("<I", 0x1000) + b"\1" + struct.pack("<QI", 0xE0000, 0)
    seed += b"\2" + edge_raw(0xFEE00000) + edge_raw(0x1000) + b"\2"
    seed += edge_raw(0xFC000000) + edge_raw(0x100000) + b"\0"
    seed += b"console=hvc0 root=/dev/xvda"
    put("start_info", "linux-like", seed)


def guest_walk():
    # flags, cr0 cr3 cr4 efer (raw), 8 gvas (raw), then memory: one self-mapping table at 0.
    def raw(v):
        return b"\0" + struct.pack("<Q", v)
    regs = raw(0x80000011) + raw(0) + raw(0x20) + raw(0x500)     # PG|PE|ET, PAE, LME|LMA
    gvas = b"".join(raw(v) for v in (0x123, 0x1000, 0x7fff_ffff_f000, 0xffff_8000_0000_0000,
                                     0x200000, 0x40000000, 0xfff, 0x8000_0000_0000))
    put("guest_walk", "long-self-map", b"\x05" + regs + gvas + struct.pack("<Q", 0x7))
    regs32 = raw(0x80000011) + raw(0x1000) + raw(0x10) + raw(0)  # 32-bit paging, PSE
    mem = bytearray(0x1008)
    struct.pack_into("<I", mem, 0x1000, 0x83 | 0x400000)        # PDE 0: 4 MiB page
    struct.pack_into("<I", mem, 0x1004, 0x0007)                  # PDE 1: table at 0
    put("guest_walk", "pse32", b"\x02" + regs32 + gvas + bytes(mem))


def hypercall_abi():
    put("hypercall_abi", "long", b"\1\2" + b"\x81" + b"\xff" * 2 + bytes(range(144)))
    put("hypercall_abi", "compat", b"\0\7" + b"\xff" + b"\xc0" + bytes(range(255, 111, -1)))


def evtchn():
    def op(code, dom=0, other=0, a=0, b=0, c=0):
        return bytes([(code << 2) | dom | (other << 1), a, b, c])
    ops = op(0, 0, 1, 1)            # A: alloc_unbound for B
    ops += op(1, 1, 0, 0, 1, 0)     # B: bind_interdomain to A's port 1
    ops += op(5, 0, 0, 0, 1, 0)     # A: send port 1
    ops += op(2, 0, 0, 0, 1, 0)     # A: bind_virq TIMER vcpu 1
    ops += op(3, 0, 0, 0, 2, 0)     # A: bind_ipi vcpu 2
    ops += op(12, 1, 0, 0, 0, 0)    # B: xen port
    ops += op(13, 0, 0, 1)          # A: compat
    ops += op(8, 0, 0, 0, 2, 0)     # A: unmask 2
    ops += op(7, 1, 0, 0, 1, 0)     # B: bind_vcpu
    ops += op(4, 0, 0, 0, 1, 0)     # A: close 1
    ops += op(15, 1, 0)             # B dies
    put("evtchn", "pair", ops)
    fifo = op(3, 0, 0, 0, 0, 0)             # A: bind_ipi vcpu 0 (port 1), then FIFO:
    fifo += op(16, 0, 0, 1, 0, 0)           # A: init_control vcpu 0, page 0, offset 0
    fifo += op(16, 0, 0, 1 | 1 << 3, 1, 2)  # A: init_control vcpu 1, page 1, offset 64
    fifo += op(17, 0, 0, 2 | 2 << 3)        # A: expand_array with page 2
    fifo += op(3, 0, 0, 0, 1, 0)            # A: bind_ipi vcpu 1 (port 2)
    fifo += op(18, 0, 0, 3, 2, 0)           # A: set_priority port 2 -> 3
    fifo += op(5, 0, 0, 0, 1, 0) + op(5, 0, 0, 0, 2, 0)    # A: send 1, 2
    fifo += op(19, 0, 0, 2, 4, 0)           # A: the guest scribbles on port 1's word
    fifo += op(5, 0, 0, 0, 1, 0) + op(8, 0, 0, 0, 2, 0)    # A: send 1, unmask 2
    fifo += op(9, 0, 0)                     # A: reset: back to 2-level
    put("evtchn", "fifo", fifo)


def grant_table():
    def op(code, a=0, b=0, lo=0, hi=0):
        return bytes([code, a | (b << 4), lo, hi])
    ops = op(0, 0, 1, 8, 0x01)          # d1's entry 8: permit_access to d2, gfn 8
    ops += op(0, 0, 1, 9, 0x05)         # entry 9: permit_access | readonly
    ops += op(1, 1, 0, 8, 0x00)         # d2 maps d1:8 writable
    ops += op(1, 1, 0, 8, 0x80)         # ... and read-only
    ops += op(1, 1, 0, 9, 0x00)         # d2 maps d1:9 writable: refused
    ops += op(2, 1, 0, 9, 0x80)         # ... read-only
    ops += op(5, 1, 0, 8, 0x00)         # d2 copies d1:8 -> d1:8
    ops += op(4, 0, 0, 3)               # d1 grows
    ops += op(3, 1, 0, 0, 0)            # d2 unmaps handle 0
    ops += op(0, 0, 1, 8, 0x00)         # d1 revokes 8 while mapped
    ops += op(6, 1, 0, 0xd1)            # d2 dies
    put("grant_table", "pair", ops)


def vlapic():
    def op(code, a=0, value=0, delta=100, shift=0):
        return bytes([code | (shift << 5), a]) + struct.pack("<QH", value, delta)
    x2 = 0xFEE00000 | 0xC00
    ops = op(2, 1, x2)                              # to x2APIC
    ops += op(0, 0x0F, 0x1FF)                       # SVR on
    ops += op(0, 0x32, 0x20030)                     # LVT timer periodic vector 0x30
    ops += op(0, 0x3E, 0xB)                         # divide 1
    ops += op(0, 0x38, 1000)                        # initial count
    ops += op(5, delta=2000, shift=2) + op(4) + op(0, 0x0B, 0)   # fire, inject, EOI
    ops += op(0, 0x30, (1 << 32) | 0x40)            # ICR: fixed 0x40 to APIC 1
    ops += op(1, 0x39) + op(8) + op(3, 0x50) + op(7, 0x40) + op(9, 0x22)
    put("vlapic", "x2apic-timer", ops)
    xa = op(2, 0, 0xFEE00000 | 0x800)              # xAPIC mode
    xa += op(6, 0xF0 >> 2, 0x1FF) + op(6, 0x320 >> 2, 0x20031) + op(6, 0x380 >> 2, 50)
    xa += op(5, delta=4000, shift=3) + op(4) + op(6, 0xB0 >> 2, 0)
    put("vlapic", "xapic-page", xa)


def xs_wire():
    # A stream of xenstore messages (xsd_sockmsg header + payload) as the store sends them.
    def msg(kind, req_id, payload):
        return struct.pack("<IIII", kind, req_id, 0, len(payload)) + payload
    put("xs_wire", "read_reply", msg(2, 1, b"Linux guest"))
    put("xs_wire", "error_then_event", msg(16, 2, b"EACCES\0") + msg(15, 0, b"data/w\0wisp-xs\0"))
    put("xs_wire", "directory", msg(1, 3, b"backend\0device\0control\0"))


def xenstore_ring():
    def step(sel, val=0, length=0):
        return bytes([sel]) + struct.pack("<II", val, length)
    # Server indices 0/0; the guest produces 16 bytes, the server reads 8 and writes 100,
    # the guest reads 50, the server writes 2000 (only the room there is).
    ops = struct.pack("<II", 0, 0)
    ops += step(0, 16) + step(4, 0, 8) + step(5, 0, 100) + step(1, 50) + step(5, 0, 2000)
    put("xenstore_ring", "read-write", ops)


def acpi_cpus():
    """RSDP (loader copy) -> XSDT and RSDT at 0x1000 -> MADT with two LAPICs and an x2APIC."""
    def table(sig, body):
        t = bytearray(sig + struct.pack("<IBB", 36 + len(body), 1, 0) + b"WISPFZ" + b"FUZZTBL " +
                      struct.pack("<I4sI", 1, b"WISP", 1) + body)
        t[9] = (-sum(t)) & 0xff
        return bytes(t)
    base = 0x1000
    madt = table(b"APIC", struct.pack("<II", 0xFEE00000, 0) +
                 struct.pack("<BBBBI", 0, 8, 0, 0, 1) + struct.pack("<BBBBI", 0, 8, 1, 1, 1) +
                 struct.pack("<BBHIII", 9, 16, 0, 300, 1, 2))
    madt_at = base + 0x100
    xsdt = table(b"XSDT", struct.pack("<Q", madt_at))
    rsdt = table(b"RSDT", struct.pack("<I", madt_at))
    mem = bytearray(0x200)
    mem[0:len(xsdt)] = xsdt
    mem[0x80:0x80 + len(rsdt)] = rsdt
    mem[0x100:0x100 + len(madt)] = madt
    rsdp = bytearray(b"RSD PTR " + b"\0" + b"WISPFZ" + bytes([2]) + struct.pack("<IIQ", base + 0x80, 36, base) + bytes(4))
    rsdp[8] = (-sum(rsdp[:20])) & 0xff
    rsdp[32] = (-sum(rsdp)) & 0xff
    put("acpi_cpus", "loader-rsdp", bytes([36]) + bytes(rsdp) + bytes(mem))
    # No copy: the search finds the RSDP after the tables (the input's memory is also the BIOS area).
    put("acpi_cpus", "searched-rsdp", bytes([0]) + bytes(36) + bytes(mem) + bytes(rsdp))


if __name__ == "__main__":
    for f in (bootconfig, cmdline, multiboot, elf, start_info, guest_walk, hypercall_abi,
              evtchn, vlapic, grant_table, xs_wire,
              xenstore_ring, acpi_cpus):
        f()
