package scripttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdSubmit queues N async jobs of a function, alternately through two
// servers (URLs in the named variables), with $FAAS_TOKEN, 16 at a time,
// and writes their ids to FILE, one a line:
// `submit N FUNCTION SERVER SERVER2 FILE`.
func cmdSubmit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: submit N FUNCTION SERVERVAR SERVERVAR2 FILE")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		ts.Fatalf("submit: bad count %q", args[0])
	}
	servers := []string{ts.Getenv(args[2]), ts.Getenv(args[3])}
	token := ts.Getenv("FAAS_TOKEN")
	ids := make([]string, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ids[i], errs[i] = submitOne(servers[i%2], args[1], token)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			ts.Fatalf("submit: job %d through %s: %v", i, servers[i%2], err)
		}
	}
	ts.Logf("submitted %d jobs in %v", n, time.Since(start).Round(time.Millisecond))
	ts.Check(os.WriteFile(ts.MkAbs(args[4]), []byte(strings.Join(ids, "\n")+"\n"), 0o600))
}

func submitOne(server, function, token string) (string, error) {
	req, err := http.NewRequest("POST", server+"/v1/functions/"+function+"/invoke?async=true", strings.NewReader("{}"))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		JobID string `json:"job_id"`
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil || r.JobID == "" {
		return "", fmt.Errorf("%d: %s", resp.StatusCode, b)
	}
	return r.JobID, nil
}

// cmdWaitLines waits (up to a minute) until FILE has at least N lines:
// `waitlines FILE N`.
func cmdWaitLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitlines FILE N")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("waitlines: bad count %q", args[1])
	}
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		got := strings.Count(string(b), "\n")
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitlines: %s has %d lines after a minute, want %d", args[0], got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdRunsOnce checks that every job ended once: `runsonce IDS RUNS JOBS`,
// where IDS lists the submitted job ids, RUNS has a line per run of the
// function (its job id) and JOBS is `faas jobs -o json` taken after. Each
// job ended, completed or lost (its server died), after one attempt; a
// completed job ran exactly once, a lost one at most once (it may have run
// without its result being recorded); nothing else ran.
func cmdRunsOnce(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: runsonce IDS RUNS JOBS")
	}
	runs := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[1])))
	for sc.Scan() {
		runs[strings.TrimSpace(sc.Text())]++
	}
	var jobs []struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[2])), &jobs); err != nil {
		ts.Fatalf("runsonce: %s: %v", args[2], err)
	}
	byID := map[string]int{}
	for i, j := range jobs {
		byID[j.ID] = i
	}
	count := map[string]int{}
	ids := strings.Fields(ts.ReadFile(args[0]))
	for _, id := range ids {
		i, ok := byID[id]
		if !ok {
			ts.Fatalf("runsonce: job %s is not in %s", id, args[2])
		}
		j := jobs[i]
		count[j.Status]++
		switch {
		case j.Attempts != 1:
			ts.Fatalf("runsonce: job %s (%s) had %d attempts, want 1", id, j.Status, j.Attempts)
		case j.Status == "completed" && runs[id] != 1:
			ts.Fatalf("runsonce: completed job %s ran %d times, want 1", id, runs[id])
		case j.Status == "lost" && runs[id] > 1:
			ts.Fatalf("runsonce: lost job %s ran %d times, want at most 1", id, runs[id])
		case j.Status != "completed" && j.Status != "lost":
			ts.Fatalf("runsonce: job %s is %s, want completed or lost", id, j.Status)
		}
		delete(runs, id)
	}
	for id, n := range runs {
		ts.Fatalf("runsonce: %q ran %d times but was not submitted", id, n)
	}
	ts.Logf("runsonce: %d jobs: %v", len(ids), count)
}
