package dispatcher

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/logging"
)

// lockedBuffer is a log sink the workers share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestJobLinesAreJSONWithTheJobID: with --log-format json every job run
// is one JSON line that names its job.
func TestJobLinesAreJSONWithTheJobID(t *testing.T) {
	q := newQueue(5)
	var out lockedBuffer
	if err := Run(t.Context(), q, Options{Workers: 2, IdleExit: 50 * time.Millisecond, Poll: time.Millisecond,
		Log: logging.New(&out, logging.JSON)}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out.b.Bytes()))
	for sc.Scan() {
		var line struct {
			Msg    string `json:"msg"`
			JobID  string `json:"job_id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%q is not JSON: %v", sc.Text(), err)
		}
		if line.Msg == "job ran" && line.Status == "completed" {
			seen[line.JobID] = true
		}
	}
	if len(seen) != 5 {
		t.Fatalf("job lines name %v, want the 5 jobs:\n%s", seen, out.b.String())
	}
}
