package scripttest

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// NetnsUsable says whether scripts may make network namespaces here: as
// root, with ip(8).
func NetnsUsable() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return false
	}
	name := "faasprobe" + randHex(3)
	if exec.Command("ip", "netns", "add", name).Run() != nil {
		return false
	}
	_ = exec.Command("ip", "netns", "del", name).Run()
	return true
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// cmdNetns makes N network namespaces, each joined by a veth pair to a
// bridge the script makes, on a 10.x.y.0/24 of its own: the bridge is
// 10.x.y.1 (HOSTIP), namespace k is 10.x.y.(k+1) ($NS1…$NSN name them).
// Everything is removed when the script ends. `netns N`. Scripts run a
// worker in one with `nsenter --net=/run/netns/$NSk`: unlike `ip netns
// exec`, it leaves /sys (and the cgroups the jail needs) as they are.
func cmdNetns(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: netns N")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 9 {
		ts.Fatalf("netns: N from 1 to 9")
	}
	tag := randHex(3)
	b := make([]byte, 1)
	_, _ = rand.Read(b)
	net := fmt.Sprintf("10.%d.%d", 200+int(b[0])%50, int(b[0]))
	ip := func(a ...string) {
		if out, err := exec.Command("ip", a...).CombinedOutput(); err != nil {
			ts.Fatalf("ip %s: %v: %s", strings.Join(a, " "), err, out)
		}
	}
	br := "fbr" + tag
	ip("link", "add", br, "type", "bridge")
	ts.Defer(func() { _ = exec.Command("ip", "link", "del", br).Run() })
	ip("addr", "add", net+".1/24", "dev", br)
	ip("link", "set", br, "up")
	ts.Setenv("HOSTIP", net+".1")
	for k := 1; k <= n; k++ {
		ns := fmt.Sprintf("faas%s-%d", tag, k)
		host, peer := fmt.Sprintf("fv%s%d", tag, k), fmt.Sprintf("fp%s%d", tag, k)
		ip("netns", "add", ns)
		ts.Defer(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		ip("link", "add", host, "type", "veth", "peer", "name", peer)
		ip("link", "set", host, "master", br)
		ip("link", "set", host, "up")
		ip("link", "set", peer, "netns", ns)
		ip("-n", ns, "addr", "add", fmt.Sprintf("%s.%d/24", net, k+1), "dev", peer)
		ip("-n", ns, "link", "set", peer, "up")
		ip("-n", ns, "link", "set", "lo", "up")
		ts.Setenv("NS"+strconv.Itoa(k), ns)
	}
}
