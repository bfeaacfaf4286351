package spare

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/proc"
)

func freeSpare(t *testing.T, home string, w Want) Info {
	t.Helper()
	info := Info{ID: NewID(w.Runtime), Runtime: w.Runtime, Interpreter: w.Interpreter, Shape: w.Shape,
		PID: os.Getpid(), PIDStart: proc.SelfStart()}
	if err := Prepare(home, info); err != nil {
		t.Fatal(err)
	}
	if err := MarkFree(home, info); err != nil {
		t.Fatal(err)
	}
	return info
}

// Many launches at once, one spare: exactly one takes it.
func TestOneSpareIsClaimedOnce(t *testing.T) {
	home := t.TempDir()
	w := Want{Runtime: function.Python, Interpreter: "/usr/bin/python3", Shape: "s"}
	for round := 0; round < 20; round++ {
		info := freeSpare(t, home, w)
		var won atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if got, ok := Claim(home, w); ok {
					if got.ID != info.ID {
						t.Errorf("claimed %s, want %s", got.ID, info.ID)
					}
					won.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("round %d: %d launches took the one spare", round, n)
		}
		if _, ok := Claim(home, w); ok {
			t.Fatal("a claimed spare was claimed again")
		}
		if Take(home, info.ID) {
			t.Fatal("a claimed spare's agent took itself back")
		}
	}
}

func TestClaimTakesOnlyItsShape(t *testing.T) {
	home := t.TempDir()
	w := Want{Runtime: function.Python, Interpreter: "/usr/bin/python3", Shape: "s"}
	freeSpare(t, home, w)
	for _, other := range []Want{{function.Python, "/other/python3", "s"}, {function.Python, "/usr/bin/python3", "t"}, {function.Node, "/usr/bin/python3", "s"}} {
		if _, ok := Claim(home, other); ok {
			t.Errorf("%+v claimed a spare of %+v", other, w)
		}
	}
	if Count(home, w) != 1 {
		t.Fatalf("Count = %d, want 1", Count(home, w))
	}
	if _, ok := Claim(home, w); !ok {
		t.Fatal("no claim of a free spare of the same shape")
	}
	if Count(home, w) != 0 {
		t.Fatalf("Count = %d after the claim, want 0", Count(home, w))
	}
}

// A free spare whose agent died is cleared, never handed out.
func TestDeadSparesAreCleared(t *testing.T) {
	home := t.TempDir()
	w := Want{Runtime: function.Python, Interpreter: "/usr/bin/python3", Shape: "s"}
	info := Info{ID: NewID(w.Runtime), Runtime: w.Runtime, Interpreter: w.Interpreter, Shape: w.Shape, PID: 1 << 22, PIDStart: 1}
	if err := Prepare(home, info); err != nil {
		t.Fatal(err)
	}
	if err := MarkFree(home, info); err != nil {
		t.Fatal(err)
	}
	if _, ok := Claim(home, w); ok {
		t.Fatal("claimed a dead spare")
	}
	if _, err := os.Stat(Dir(home, info.ID)); !os.IsNotExist(err) {
		t.Fatalf("the dead spare's directory is still there: %v", err)
	}
}

func TestQualifies(t *testing.T) {
	ok := faastype.Invocation{Config: function.DefaultConfig()}
	ok.Config.Runtime, ok.Config.Mode, ok.Config.Interpreter = function.Python, function.Handler, "/usr/bin/python3"
	if q, why := Qualifies(ok); !q {
		t.Fatalf("a plain handler does not qualify: %s", why)
	}
	for name, change := range map[string]func(*faastype.Invocation){
		"secret":     func(i *faastype.Invocation) { i.Config.Secrets = []function.SecretRef{{Name: "token"}} },
		"network":    func(i *faastype.Invocation) { i.Config.Network = []string{"*"} },
		"tmp":        func(i *faastype.Invocation) { i.Config.TmpMB = 16 },
		"deps":       func(i *faastype.Invocation) { i.Deps = "abc" },
		"tree":       func(i *faastype.Invocation) { i.Tree = true },
		"script":     func(i *faastype.Invocation) { i.Config.Mode = function.Script },
		"node":       func(i *faastype.Invocation) { i.Config.Runtime = function.Node },
		"unpinned":   func(i *faastype.Invocation) { i.Config.Interpreter = "" },
		"PYTHONPATH": func(i *faastype.Invocation) { i.Config.Env = map[string]string{"PYTHONPATH": "/x"} },
		"LD_PRELOAD": func(i *faastype.Invocation) { i.Config.Env = map[string]string{"LD_PRELOAD": "/x"} },
		"LANG":       func(i *faastype.Invocation) { i.Config.Env = map[string]string{"LANG": "C"} },
	} {
		inv := ok
		inv.Config.Env = map[string]string{}
		change(&inv)
		if q, _ := Qualifies(inv); q {
			t.Errorf("a version with %s qualifies", name)
		}
	}
}

func TestShapeIgnoresTheHomeAndToken(t *testing.T) {
	a := Shape("/x/faas", []string{"FAAS_HOME=/a", "FAAS_AGENT_TOKEN=1", "FAAS_AGENT_IDLE=10m", "PATH=/bin"})
	b := Shape("/x/faas", []string{"FAAS_AGENT_IDLE=10m", "FAAS_HOME=/b", "PATH=/usr/bin"})
	if a != b {
		t.Fatal("the home or the token changed the shape")
	}
	if a == Shape("/x/faas", []string{"FAAS_AGENT_IDLE=1m"}) || a == Shape("/x/faas", []string{"FAAS_AGENT_IDLE=10m", "FAAS_SANDBOX=rlimit"}) {
		t.Fatal("another setting made the same shape")
	}
}
