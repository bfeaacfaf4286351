package build

import (
	"net"
	"sync"
	"testing"
)

// index is a package index that takes connections and never answers.
type index struct {
	addr  string
	asked chan struct{}
}

func hangingIndex(t testing.TB) *index {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ix := &index{addr: l.Addr().String(), asked: make(chan struct{})}
	var once sync.Once
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			once.Do(func() { close(ix.asked) })
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ix
}
