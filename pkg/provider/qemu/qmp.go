package qemu

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// A VM's QMP monitor and control port are socket pairs: QEMU gets one
// end (`-chardev socket,fd=N`), faas keeps the other while it launches
// the VM. No socket path, nothing another user could connect to.

// socketPair returns faas' end (a connection) and QEMU's (a file it
// inherits).
func socketPair() (net.Conn, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	mine := os.NewFile(uintptr(fds[0]), "faas-end")
	defer mine.Close()
	c, err := net.FileConn(mine)
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	return c, os.NewFile(uintptr(fds[1]), "qemu-end"), nil
}

// qmp speaks QEMU's machine protocol: one command at a time, events
// skipped.
type qmp struct {
	c *net.UnixConn
	r *bufio.Reader
}

// newQMP reads the greeting and leaves capabilities negotiation mode.
func newQMP(c net.Conn, deadline time.Time) (*qmp, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, errors.New("qmp: not a unix socket")
	}
	q := &qmp{c: uc, r: bufio.NewReader(uc)}
	_ = uc.SetDeadline(deadline)
	if _, err := q.r.ReadBytes('\n'); err != nil {
		return nil, fmt.Errorf("qmp greeting: %w", err)
	}
	if _, err := q.do("qmp_capabilities", nil, nil); err != nil {
		return nil, err
	}
	return q, nil
}

// do runs a command (with an fd passed alongside it, SCM_RIGHTS, when
// fd is not nil) and returns its return value.
func (q *qmp) do(cmd string, args any, fd *os.File) (json.RawMessage, error) {
	msg := map[string]any{"execute": cmd}
	if args != nil {
		msg["arguments"] = args
	}
	b, _ := json.Marshal(msg)
	var err error
	if fd != nil {
		_, _, err = q.c.WriteMsgUnix(b, syscall.UnixRights(int(fd.Fd())), nil)
	} else {
		_, err = q.c.Write(b)
	}
	if err != nil {
		return nil, fmt.Errorf("qmp %s: %w", cmd, err)
	}
	for {
		line, err := q.r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("qmp %s: %w", cmd, err)
		}
		var r struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("qmp %s: %w", cmd, err)
		}
		switch {
		case r.Event != "":
			continue
		case r.Error != nil:
			return nil, fmt.Errorf("qmp %s: %s", cmd, r.Error.Desc)
		}
		return r.Return, nil
	}
}

// migration waits until the migration in progress (out or in) ends and
// returns its status: completed, failed or cancelled.
func (q *qmp) migration() (string, error) {
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		b, err := q.do("query-migrate", nil, nil)
		if err != nil {
			return "", err
		}
		var st struct {
			Status    string `json:"status"`
			ErrorDesc string `json:"error-desc"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return "", err
		}
		switch st.Status {
		case "completed":
			return st.Status, nil
		case "failed", "cancelled":
			if st.ErrorDesc != "" {
				return st.Status, errors.New(st.ErrorDesc)
			}
			return st.Status, errors.New("migration " + st.Status)
		}
		time.Sleep(delay)
	}
}

func (q *qmp) Close() error { return q.c.Close() }
