package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/server"
	"github.com/faasdev/faas/pkg/store"
)

const slow = `import time
def handler(event, context):
    print("tick", flush=True)
    time.sleep(2)
    print("tock", flush=True)
    return "done"
`

// TestFollowARunningJob: a running job's page streams its lines as the
// function prints them, and the stream ends with the job.
func TestFollowARunningJob(t *testing.T) {
	base, e := start(t, "alice")
	ctx := context.Background()
	alice := e.As("alice")
	if _, err := alice.Deploy(ctx, engine.DeployRequest{Name: "slow", Filename: "slow.py", Code: []byte(slow), Config: defaultConfig()}); err != nil {
		t.Fatal(err)
	}
	job, err := alice.Submit(ctx, engine.SubmitRequest{Name: "slow", Payload: []byte("{}"), Trigger: faastype.TriggerAPI})
	if err != nil {
		t.Fatal(err)
	}
	c := browser()
	signIn(t, c, base, "alice")
	// The job page says it runs, and where its lines come from.
	deadline := time.Now().Add(time.Minute)
	for {
		j, err := alice.Job(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == store.StatusRunning {
			break
		}
		if j.Status != store.StatusWaiting || time.Now().After(deadline) {
			t.Fatalf("the job is %s, never running", j.Status)
		}
		_, _ = alice.WaitJob(ctx, job.ID, 20*time.Millisecond)
	}
	_, page := get(t, c, base+"/ui/jobs/"+job.ID)
	if !strings.Contains(page, `data-follow="/ui/jobs/`+job.ID+`/follow"`) || !strings.Contains(page, "data-live") {
		t.Fatalf("a running job's page neither follows nor refreshes:\n%s", page)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, base+"/ui/jobs/"+job.ID+"/follow", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("follow answered %d", resp.StatusCode)
	}
	var got []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() { // ends when the job does
		var l faastype.LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		if l.JobID != job.ID {
			t.Errorf("a line of job %s in %s's stream", l.JobID, job.ID)
		}
		got = append(got, l.Line)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("the stream did not end with the job: %v (lines %q)", err, got)
	}
	if strings.Join(got, "|") != "tick|tock" {
		t.Fatalf("followed lines %q, want tick and tock", got)
	}
	// Another owner cannot follow it.
	bob := browser()
	if r, _ := get(t, bob, base+"/ui/jobs/"+job.ID+"/follow"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a browser without a session followed the job: %d", r.StatusCode)
	}
}

// TestDevNeedsNoSignInButChecksForms: under --dev the pages are the local
// user's without a token, and forms still need their CSRF token.
func TestDevNeedsNoSignInButChecksForms(t *testing.T) {
	base, e := startWith(t, server.Options{Dev: true})
	if _, err := e.Deploy(context.Background(), engine.DeployRequest{Name: "mine", Filename: "mine.py", Code: []byte(hello), Config: defaultConfig()}); err != nil {
		t.Fatal(err)
	}
	c := browser()
	resp, page := get(t, c, base+"/ui/functions")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "mine") || !strings.Contains(page, "--dev") {
		t.Fatalf("--dev's functions page answered %d:\n%s", resp.StatusCode, page)
	}
	if r, _ := get(t, c, base+"/ui/signin"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("--dev's sign-in page answered %d, want a redirect", r.StatusCode)
	}
	if r, _ := post(t, c, base+"/ui/functions/mine/delete", url.Values{}, nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("--dev took a form without its CSRF token: %d", r.StatusCode)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	if r, _ := post(t, c, base+"/ui/functions/mine/delete", url.Values{"csrf": {csrf}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("--dev's own form answered %d", r.StatusCode)
	}
}
