package sandbox

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

// The seccomp filter every jailed function runs under: a deny-list after
// Flatpak's and bubblewrap's. What it refuses a function could only use to
// leave or widen its jail (mount, namespaces, chroot), to reach the kernel's
// larger attack surfaces (keyctl, bpf, perf_event_open, userfaultfd, module
// loading), to look into other processes (ptrace, process_vm_*), or to push
// input into a terminal (TIOCSTI). Everything else is allowed: a function is
// an ordinary program.

// x86-64 system call numbers (the only architecture faas jails on; the
// filter refuses every call from any other ABI, i386 and x32 included).
const (
	sysIoctl          = 16
	sysClone          = 56
	sysPtrace         = 101
	sysPivotRoot      = 155
	sysChroot         = 161
	sysMount          = 165
	sysUmount2        = 166
	sysSwapon         = 167
	sysSwapoff        = 168
	sysReboot         = 169
	sysInitModule     = 175
	sysDeleteModule   = 176
	sysAddKey         = 248
	sysRequestKey     = 249
	sysKeyctl         = 250
	sysKexecLoad      = 246
	sysUnshare        = 272
	sysPerfEventOpen  = 298
	sysNameToHandleAt = 303
	sysOpenByHandleAt = 304
	sysSetns          = 308
	sysProcessVMRead  = 310
	sysProcessVMWrite = 311
	sysFinitModule    = 313
	sysSeccomp        = 317
	sysBpf            = 321
	sysUserfaultfd    = 323
	sysKexecFileLoad  = 320
	sysOpenTree       = 428
	sysMoveMount      = 429
	sysFsopen         = 430
	sysFsconfig       = 431
	sysFsmount        = 432
	sysFspick         = 433
	sysClone3         = 435
	sysMountSetattr   = 442

	prSetNoNewPrivs = 38
	auditArchX86_64 = 0xc000003e
	x32SyscallBit   = 0x40000000
	tiocsti         = 0x5412
	tioclinux       = 0x541c

	// Namespace flags clone must not be given.
	cloneNewFlags = syscall.CLONE_NEWNS | syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET |
		syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | 0x02000000 /* CLONE_NEWCGROUP */ | 0x00000080 /* CLONE_NEWTIME */
)

// deniedSyscalls fail with EPERM.
var deniedSyscalls = []uint32{
	sysPtrace, sysPivotRoot, sysChroot, sysMount, sysUmount2, sysSwapon, sysSwapoff, sysReboot,
	sysInitModule, sysDeleteModule, sysFinitModule, sysAddKey, sysRequestKey, sysKeyctl, sysKexecLoad,
	sysKexecFileLoad, sysUnshare, sysPerfEventOpen, sysNameToHandleAt, sysOpenByHandleAt, sysSetns,
	sysProcessVMRead, sysProcessVMWrite, sysBpf, sysUserfaultfd, sysOpenTree, sysMoveMount, sysFsopen,
	sysFsconfig, sysFsmount, sysFspick, sysMountSetattr, sysSeccomp,
}

// Classic BPF, as seccomp takes it.
type sockFilter struct {
	code uint16
	jt   uint8
	jf   uint8
	k    uint32
}

type sockFprog struct {
	len    uint16
	filter *sockFilter
}

const (
	bpfLD   = 0x00
	bpfW    = 0x00
	bpfABS  = 0x20
	bpfJMP  = 0x05
	bpfJEQ  = 0x10
	bpfJSET = 0x40
	bpfK    = 0x00
	bpfRET  = 0x06
	bpfALU  = 0x04
	bpfAND  = 0x50

	seccompRetAllow = 0x7fff0000
	seccompRetErrno = 0x00050000
	seccompRetKill  = 0x80000000 // SECCOMP_RET_KILL_PROCESS

	// Offsets in struct seccomp_data.
	offNr       = 0
	offArch     = 4
	offArg0     = 16
	offArg1     = 24
	errnoEPERM  = 1
	errnoENOSYS = 38
)

func stmt(code uint16, k uint32) sockFilter { return sockFilter{code: code, k: k} }

func jump(code uint16, k uint32, jt, jf uint8) sockFilter {
	return sockFilter{code: code, jt: jt, jf: jf, k: k}
}

// filter builds the program. Its layout: refuse a foreign ABI; load the
// call number; for each denied call, EPERM; clone3 gets ENOSYS (so that the
// C library falls back to clone, whose flags a classic filter can see);
// clone with a namespace flag, and ioctl TIOCSTI/TIOCLINUX, get EPERM;
// everything else is allowed.
func filter() []sockFilter {
	var f []sockFilter
	f = append(f,
		stmt(bpfLD|bpfW|bpfABS, offArch),
		jump(bpfJMP|bpfJEQ|bpfK, auditArchX86_64, 1, 0),
		stmt(bpfRET|bpfK, seccompRetKill),
		stmt(bpfLD|bpfW|bpfABS, offNr),
		// x32 calls are x86-64 calls with a high bit: refuse them all.
		jump(bpfJMP|bpfJSET|bpfK, x32SyscallBit, 0, 1),
		stmt(bpfRET|bpfK, seccompRetErrno|errnoEPERM),
	)
	for _, nr := range deniedSyscalls {
		f = append(f,
			jump(bpfJMP|bpfJEQ|bpfK, nr, 0, 1),
			stmt(bpfRET|bpfK, seccompRetErrno|errnoEPERM),
		)
	}
	f = append(f,
		jump(bpfJMP|bpfJEQ|bpfK, sysClone3, 0, 1),
		stmt(bpfRET|bpfK, seccompRetErrno|errnoENOSYS),
		// clone(flags, …): the flags are the low 32 bits of arg 0.
		jump(bpfJMP|bpfJEQ|bpfK, sysClone, 0, 4),
		stmt(bpfLD|bpfW|bpfABS, offArg0),
		jump(bpfJMP|bpfJSET|bpfK, cloneNewFlags, 0, 1),
		stmt(bpfRET|bpfK, seccompRetErrno|errnoEPERM),
		stmt(bpfRET|bpfK, seccompRetAllow),
		// ioctl(fd, request, …): the request is the low 32 bits of arg 1.
		jump(bpfJMP|bpfJEQ|bpfK, sysIoctl, 0, 5),
		stmt(bpfLD|bpfW|bpfABS, offArg1),
		jump(bpfJMP|bpfJEQ|bpfK, tiocsti, 2, 0),
		jump(bpfJMP|bpfJEQ|bpfK, tioclinux, 1, 0),
		stmt(bpfRET|bpfK, seccompRetAllow),
		stmt(bpfRET|bpfK, seccompRetErrno|errnoEPERM),
		stmt(bpfRET|bpfK, seccompRetAllow),
	)
	return f
}

// confineThread sets no_new_privs and loads the filter on the calling OS
// thread, which must then exec: the new program keeps both, and a filter
// cannot be removed. The caller has locked the goroutine to its thread.
func confineThread() error {
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("the seccomp filter is for amd64, not %s", runtime.GOARCH)
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("no_new_privs: %w", e)
	}
	f := filter()
	prog := sockFprog{len: uint16(len(f)), filter: &f[0]}
	const prSetSeccomp, seccompModeFilter = 22, 2 // linux/prctl.h, linux/seccomp.h
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetSeccomp, seccompModeFilter, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return fmt.Errorf("seccomp: %w", e)
	}
	runtime.KeepAlive(f)
	return nil
}
