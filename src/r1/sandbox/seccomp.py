"""A seccomp filter for the local sandbox, given to bubblewrap as ``--seccomp FD``.

Why hand-assembled: bubblewrap takes a compiled classic-BPF program and nothing else, and
the filter is a short deny-list; assembling ~60 fixed instructions with ``struct`` is less
than a binding to libseccomp (a new dependency and a shared library that CI must carry).

What it denies (the syscall fails with EPERM; the program keeps running, as it would on a
judge that forbids them): tracing other processes (``ptrace``, ``process_vm_*``), changing
mounts or namespaces (``mount``, ``umount2``, ``pivot_root``, ``chroot``, ``unshare``,
``setns``, the new mount API, ``clone`` with a ``CLONE_NEW*`` flag), kernel attack surface a
test never needs (``bpf``, ``perf_event_open``, ``keyctl``/``add_key``/``request_key``,
``userfaultfd``, ``io_uring_*``, ``kexec_*``, modules, ``reboot``, ``swapon``, the clock
setters, ``syslog``, ``open_by_handle_at``, ``fanotify_init``), raw and packet sockets, and
the x32 ABI. ``clone3`` answers ENOSYS: its flags live in memory a filter cannot read, and
ENOSYS makes glibc fall back to ``clone``, whose flags it can (Docker's default does the same).

Only x86-64 is described; elsewhere :func:`filter_program` returns None and the sandbox runs
without the filter (logged once), keeping its namespaces and limits.
"""

from __future__ import annotations

import errno
import platform
import struct

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6];
_NR, _ARCH = 0, 4


def _arg_lo(i: int) -> int:  # low 32 bits of args[i] (little-endian)
    return 16 + 8 * i


# Classic BPF opcodes (linux/filter.h).
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_AND = 0x54  # BPF_ALU | BPF_AND | BPF_K
_RET = 0x06  # BPF_RET | BPF_K

RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000


def ret_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

# x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl).
X86_64_DENIED = {
    "ptrace": 101,
    "syslog": 103,
    "adjtimex": 159,
    "pivot_root": 155,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "fanotify_init": 300,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "mount_setattr": 442,
}
X86_64_SOCKET, X86_64_CLONE, X86_64_CLONE3 = 41, 56, 435

AF_PACKET = 17
SOCK_RAW, SOCK_PACKET = 3, 10
SOCK_TYPE_MASK = 0xF
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000
CLONE_NEW_FLAGS |= 0x20000000 | 0x40000000


def x86_64_program() -> list[tuple[int, int, int, int]]:
    """The filter as ``(code, jt, jf, k)`` instructions.

    Layout: arch check, x32 check, ``clone3``, one ``jeq`` per denied number, the argument
    checks of ``socket`` and ``clone``, then the exits ``ALLOW``, ``KILL``, ``DENY`` (EPERM)
    and ``ENOSYS``. Jumps name an exit (or skip a count of instructions) and are resolved at
    the end, since BPF jumps are relative and only go forward.
    """
    # (code, k, jump-if-true, jump-if-false): a jump is an exit label or an int skip count.
    code: list[tuple[int, int, str | int, str | int]] = [
        (_LD_ABS, _ARCH, 0, 0),
        (_JEQ, AUDIT_ARCH_X86_64, 0, "KILL"),  # another ABI would reinterpret every number
        (_LD_ABS, _NR, 0, 0),
        (_JGE, X32_SYSCALL_BIT, "DENY", 0),
        (_JEQ, X86_64_CLONE3, "ENOSYS", 0),
    ]
    code += [(_JEQ, nr, "DENY", 0) for nr in sorted(X86_64_DENIED.values())]
    code += [
        (_JEQ, X86_64_SOCKET, 0, 6),  # not socket: skip its checks
        (_LD_ABS, _arg_lo(0), 0, 0),
        (_JEQ, AF_PACKET, "DENY", 0),
        (_LD_ABS, _arg_lo(1), 0, 0),
        (_AND, SOCK_TYPE_MASK, 0, 0),
        (_JEQ, SOCK_RAW, "DENY", 0),
        (_JEQ, SOCK_PACKET, "DENY", 0),
        (_LD_ABS, _NR, 0, 0),  # A was overwritten by the socket checks
        (_JEQ, X86_64_CLONE, 0, "ALLOW"),
        (_LD_ABS, _arg_lo(0), 0, 0),
        (_JSET, CLONE_NEW_FLAGS, "DENY", "ALLOW"),
    ]
    exits = {
        "ALLOW": RET_ALLOW,
        "KILL": RET_KILL_PROCESS,
        "DENY": ret_errno(errno.EPERM),
        "ENOSYS": ret_errno(errno.ENOSYS),
    }
    at = {label: len(code) + i for i, label in enumerate(exits)}

    def offset(pc: int, jump: str | int) -> int:
        off = jump if isinstance(jump, int) else at[jump] - pc - 1
        if not 0 <= off <= 255:
            raise AssertionError(f"seccomp jump out of range at instruction {pc}")
        return off

    program = [(c, offset(pc, jt), offset(pc, jf), k) for pc, (c, k, jt, jf) in enumerate(code)]
    return program + [(_RET, 0, 0, value) for value in exits.values()]


def filter_program(machine: str | None = None) -> bytes | None:
    """The compiled filter (``struct sock_filter`` array) for this machine, or None.

    >>> prog = filter_program("x86_64")
    >>> len(prog) % 8, struct.unpack_from("<HBBI", prog, 0)
    (0, (32, 0, 0, 4))
    >>> filter_program("riscv64") is None
    True
    """
    machine = machine or platform.machine()
    if machine not in ("x86_64", "AMD64", "amd64"):
        return None
    return b"".join(struct.pack("<HBBI", c, jt, jf, k) for c, jt, jf, k in x86_64_program())
