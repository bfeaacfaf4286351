// The client half of the fast path of `faas invoke NAME`. The dynamic
// loader runs this constructor before the Go runtime starts (a cgo binary
// is started by the C library), so a warm call costs the loading of the
// binary and one round trip, not the start of the Go runtime and of every
// package's initialisation (about 3x a hello-world Go program here).
//
// It takes only the plainest command lines (see fi_name), finds the socket
// the agent of a warm instance of the function listens on, and hands it the
// command line, the environment and its standard streams (SCM_RIGHTS). The
// agent runs that command line through the same Go code a full faas would
// (pkg/app.Run) and records the job; this side waits for the exit code.
// Whenever anything is unusual (a flag it does not know, no such socket, an
// agent that declines), it returns without a trace and faas starts as
// usual: the full path is always right, this one only faster.
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include "protocol.h"

static int fi_sock = -1;

static int fi_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int fi_digit(char c) { return c >= '0' && c <= '9'; }

// fi_valid_name is pkg/function.ValidateName: a letter first, letters,
// digits and hyphens inside, a letter or digit last.
static int fi_valid_name(const char *s) {
	size_t n = strlen(s);
	if (n == 0 || n > FI_MAX_NAME || !fi_letter(s[0]) || s[n - 1] == '-') {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if (!fi_letter(s[i]) && !fi_digit(s[i]) && s[i] != '-') {
			return 0;
		}
	}
	return 1;
}

// fi_name returns the function a command line `faas invoke ...` names when
// it is one the fast path takes: one NAME, and only -d/--data (not @FILE or
// @-: a path is relative to this process' directory), -o/--output and
// --timeout. NULL otherwise.
const char *fi_name(int argc, char **argv) {
	const char *name = NULL;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *data = NULL;
		if (a[0] != '-') {
			if (name != NULL) {
				return NULL;
			}
			name = a;
			continue;
		}
		if (strcmp(a, "-d") == 0 || strcmp(a, "--data") == 0) {
			if (++i >= argc) {
				return NULL;
			}
			data = argv[i];
		} else if (strncmp(a, "--data=", 7) == 0) {
			data = a + 7;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--timeout") == 0) {
			if (++i >= argc) {
				return NULL;
			}
		} else if (strncmp(a, "--output=", 9) != 0 && strncmp(a, "--timeout=", 10) != 0) {
			return NULL;
		}
		if (data != NULL && data[0] == '@') {
			return NULL;
		}
	}
	if (name == NULL || !fi_valid_name(name)) {
		return NULL;
	}
	return name;
}

static const char *fi_env(const char *k) {
	const char *v = getenv(k);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

// fi_socket_path is pkg/fastinvoke.SocketPath under pkg/faashome.Resolve's
// FAAS_HOME: $FAAS_HOME, $XDG_DATA_HOME/faas or ~/.local/share/faas.
static int fi_socket_path(const char *prefix, const char *name, char *out, size_t cap) {
	const char *home = fi_env("FAAS_HOME");
	const char *sub = "";
	if (home == NULL && (home = fi_env("XDG_DATA_HOME")) != NULL) {
		sub = "/faas";
	} else if (home == NULL && (home = fi_env("HOME")) != NULL) {
		sub = "/.local/share/faas";
	}
	if (home == NULL) {
		return -1;
	}
	int n = snprintf(out, cap, "%s%s/run/%s%s.sock", home, sub, prefix, name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void fi_put32(char **p, uint32_t v) {
	for (int i = 0; i < 4; i++) {
		*(*p)++ = (char)(v >> (8 * i));
	}
}

static int fi_put_strings(char **p, char *end, int n, char **s) {
	if (end - *p < 4) {
		return -1;
	}
	fi_put32(p, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(s[i]);
		if ((size_t)(end - *p) < 4 + l) {
			return -1;
		}
		fi_put32(p, (uint32_t)l);
		memcpy(*p, s[i], l);
		*p += l;
	}
	return 0;
}

// fi_request is the call: the magic, the body's length, then the command
// line without the program's name and the environment, each as a count of
// length-prefixed strings (little-endian).
static char *fi_request(int argc, char **argv, char **envp, size_t *len) {
	size_t size = sizeof(FI_MAGIC) - 1 + 4 + 8;
	int envc = 0;
	for (int i = 1; i < argc; i++) {
		size += 4 + strlen(argv[i]);
	}
	for (; envp != NULL && envp[envc] != NULL; envc++) {
		size += 4 + strlen(envp[envc]);
	}
	if (size > FI_MAX_BODY) {
		return NULL;
	}
	char *buf = malloc(size);
	if (buf == NULL) {
		return NULL;
	}
	char *p = buf, *end = buf + size;
	memcpy(p, FI_MAGIC, sizeof(FI_MAGIC) - 1);
	p += sizeof(FI_MAGIC) - 1;
	fi_put32(&p, (uint32_t)(size - (sizeof(FI_MAGIC) - 1) - 4));
	if (fi_put_strings(&p, end, argc - 1, argv + 1) != 0 || fi_put_strings(&p, end, envc, envp) != 0 || p != end) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

// fi_send sends the request with this process' standard streams attached.
static int fi_send(int s, const char *buf, size_t len) {
	int fds[3] = {0, 1, 2};
	char cbuf[CMSG_SPACE(sizeof(fds))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	ssize_t n;
	do {
		n = sendmsg(s, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		return -1;
	}
	for (size_t off = (size_t)n; off < len; off += (size_t)n) {
		do {
			n = send(s, buf + off, len - off, MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n <= 0) {
			return -1;
		}
	}
	return 0;
}

// fi_read reads exactly n bytes; it returns how many it got.
static size_t fi_read(int s, unsigned char *b, size_t n) {
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(s, b + got, n - got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		got += (size_t)r;
	}
	return got;
}

// fi_interrupt tells the agent the caller is interrupted (Ctrl-C, SIGTERM):
// it stops the function, records the job as interrupted, and answers 130,
// as a full faas does. send is async-signal-safe.
static void fi_interrupt(int sig) {
	(void)sig;
	int saved = errno;
	if (fi_sock >= 0) {
		(void)send(fi_sock, FI_INTERRUPT, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	errno = saved;
}

__attribute__((constructor)) static void fi_main(int argc, char **argv, char **envp) {
	if (argc < 3 || strcmp(argv[1], "invoke") != 0) {
		return;
	}
	const char *off = fi_env("FAAS_FAST_INVOKE");
	if ((off != NULL && strcmp(off, "0") == 0) || fi_env("FAAS_SERVER") != NULL || fi_env("FAAS_DATABASE_URL") != NULL) {
		return;
	}
	const char *name = fi_name(argc, argv);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (name == NULL || fi_socket_path(FI_SOCKET_PREFIX, name, addr.sun_path, sizeof(addr.sun_path)) != 0) {
		return;
	}
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0) {
			return;
		}
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		return;
	}
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(s);
		// No warm agent of this function: the home's spare agent takes
		// the call (a cold start from a spare, pkg/spare), if one listens.
		if (fi_socket_path(FI_SPARE_SOCKET, "", addr.sun_path, sizeof(addr.sun_path)) != 0) {
			return;
		}
		if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
			return;
		}
		if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
			close(s);
			return;
		}
	}
	size_t len = 0;
	char *req = fi_request(argc, argv, envp, &len);
	int sent = req != NULL ? fi_send(s, req, len) : -1;
	free(req);
	unsigned char ack = 0;
	if (sent != 0 || fi_read(s, &ack, 1) != 1 || ack != FI_ACCEPT) {
		// Declined, or gone before it took the call: the agent has read
		// nothing of stdin and run nothing. The full path does it all.
		close(s);
		return;
	}
	fi_sock = s;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fi_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	unsigned char code[4];
	if (fi_read(s, code, sizeof(code)) != sizeof(code)) {
		static const char msg[] = "error: the faas agent that took this invocation went away before it answered; "
					  "see `faas jobs` for how its job ended\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(3);
	}
	if (fi_env("FAAS_DEBUG") != NULL) {
		// Last: what the agent wrote to stderr is all there by now.
		static const char msg[] = "faas: invoke handed to the warm agent on ";
		(void)!write(2, msg, sizeof(msg) - 1);
		(void)!write(2, addr.sun_path, strlen(addr.sun_path));
		(void)!write(2, "\n", 1);
	}
	uint32_t c = code[0] | code[1] << 8 | code[2] << 16 | (uint32_t)code[3] << 24;
	if (c > FI_SIGNAL && c < FI_SIGNAL + 64) {
		int sig = (int)(c - FI_SIGNAL);
		signal(sig, SIG_DFL);
		raise(sig);
		_exit(128 + sig);
	}
	_exit((int)(c & 0xff));
}
