//go:build cgo

// The jail's resident init, in C. The Go init (runJail) builds the jail and
// starts the function; a jail with nothing more to do than wait (no egress
// to forward) then execs this same binary as
//
//	faas __faas-sandbox -reap CHILD STATUSFD
//
// which this constructor takes before the Go runtime starts, and never
// returns from: PID 1 of the jail stays a process of a few pages (no Go
// runtime, no heap, no threads) that reaps every process of the jail,
// forwards the signals an init forwards to the function (CHILD), and writes
// the function's end to STATUSFD as runJail does ("exit N", "signal N"),
// then exits as runJail would. For every other command line it returns at
// once.
//
// Signals are never lost on the way: the Go init catches them with
// rj_catch's handler (which forwards them once the child is known, and
// remembers them until then) and blocks them on the thread that execs; the
// mask survives execve, so whatever arrives until rj_main's handlers are in
// place stays pending and is delivered when it unblocks them.
//
// Only async-signal-safe calls, no allocation, no stdio.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define RJ_ARG "-reap"
#define RJ_FAILURE 125 // shimFailure

static const int rj_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define RJ_NSIGNALS (int)(sizeof(rj_signals) / sizeof(rj_signals[0]))

// rj_child is the function's pid (in the jail's namespace), 0 until known.
static volatile pid_t rj_child;
// rj_pending are the signals (bit i: rj_signals[i]) caught before it was.
static volatile uint32_t rj_pending;

static void rj_set(sigset_t *s) {
	sigemptyset(s);
	for (int i = 0; i < RJ_NSIGNALS; i++) {
		sigaddset(s, rj_signals[i]);
	}
}

// rj_flush sends every pending signal to the child, once it is known.
static void rj_flush(void) {
	pid_t child = __atomic_load_n(&rj_child, __ATOMIC_SEQ_CST);
	if (child <= 0) {
		return;
	}
	uint32_t bits = __atomic_exchange_n(&rj_pending, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < RJ_NSIGNALS; i++) {
		if (bits & (1u << i)) {
			(void)kill(child, rj_signals[i]);
		}
	}
}

static void rj_forward(int sig) {
	int saved = errno;
	for (int i = 0; i < RJ_NSIGNALS; i++) {
		if (rj_signals[i] == sig) {
			__atomic_fetch_or(&rj_pending, 1u << i, __ATOMIC_SEQ_CST);
		}
	}
	rj_flush();
	errno = saved;
}

// rj_catch installs the forwarding handler (the Go init's, and this
// reaper's). SA_ONSTACK: in the Go init it runs on a Go thread's signal
// stack.
int rj_catch(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rj_forward;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	rj_set(&sa.sa_mask);
	for (int i = 0; i < RJ_NSIGNALS; i++) {
		if (sigaction(rj_signals[i], &sa, NULL) != 0) {
			return errno;
		}
	}
	return 0;
}

// rj_forward_to makes child the receiver of every signal caught so far and
// from now on.
void rj_forward_to(pid_t child) {
	__atomic_store_n(&rj_child, child, __ATOMIC_SEQ_CST);
	rj_flush();
}

static char *rj_itoa(char *end, long v) {
	*--end = '\0';
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return end;
}

// rj_exec replaces the Go init by the reaper. It returns only when execve
// failed (its errno), with the signals unblocked again.
int rj_exec(pid_t child, int status_fd) {
	char pid[24], fd[24];
	char *argv[] = {"faas", "__faas-sandbox", RJ_ARG, rj_itoa(pid + sizeof(pid), child),
			rj_itoa(fd + sizeof(fd), status_fd), NULL};
	char *envp[] = {NULL};
	sigset_t set, old;
	rj_set(&set);
	// Blocked on this thread, which is the only one left after execve;
	// until then the other threads' handler forwards what arrives.
	if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0) {
		return EINVAL;
	}
	execve("/proc/self/exe", argv, envp);
	int err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

// rj_number parses a decimal number of at most 9 digits; -1 if it is not one.
static int rj_number(const char *s) {
	int v = 0, n = 0;
	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 9) {
			return -1;
		}
		v = v * 10 + (s[n] - '0');
	}
	return n > 0 ? v : -1;
}

// rj_report writes "WORD N\n" to fd, as runJail's Fprintf does.
static void rj_report(int fd, const char *word, int n) {
	char line[32], digits[12];
	size_t l = strlen(word);
	memcpy(line, word, l);
	line[l++] = ' ';
	const char *d = rj_itoa(digits + sizeof(digits), n);
	size_t dl = strlen(d);
	memcpy(line + l, d, dl);
	l += dl;
	line[l++] = '\n';
	ssize_t r;
	do {
		r = write(fd, line, l);
	} while (r < 0 && errno == EINTR);
}

__attribute__((constructor)) static void rj_main(int argc, char **argv) {
	if (argc != 5 || strcmp(argv[1], "__faas-sandbox") != 0 || strcmp(argv[2], RJ_ARG) != 0) {
		return;
	}
	int child = rj_number(argv[3]), status_fd = rj_number(argv[4]);
	// Only as the init of a jail, PID 1 of its own namespace: anywhere
	// else the command line is left to SandboxMain, which refuses -reap.
	if (child <= 1 || status_fd < 3 || getpid() != 1) {
		return;
	}
	__atomic_store_n(&rj_child, child, __ATOMIC_SEQ_CST);
	sigset_t set;
	rj_set(&set);
	// Children's ends are waited for, never discarded; a status pipe
	// whose reader is gone is an error of write, as for the Go init.
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (rj_catch() != 0) {
		_exit(RJ_FAILURE);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		int ws;
		pid_t p = waitpid(-1, &ws, 0);
		if (p < 0) {
			if (errno == EINTR) {
				continue;
			}
			static const char msg[] = "faas-sandbox: wait: no child left\n";
			(void)!write(2, msg, sizeof(msg) - 1);
			_exit(RJ_FAILURE);
		}
		if (p != child) {
			continue;
		}
		// Exiting ends the PID namespace: the kernel kills whatever the
		// function left behind (daemons, double forks).
		if (WIFEXITED(ws)) {
			rj_report(status_fd, "exit", WEXITSTATUS(ws));
			_exit(WEXITSTATUS(ws));
		}
		if (WIFSIGNALED(ws)) {
			rj_report(status_fd, "signal", WTERMSIG(ws));
			_exit(128 + WTERMSIG(ws));
		}
	}
}
