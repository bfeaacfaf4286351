package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/faasdev/faas/bench/internal/benchutil"
)

// okHandler answers the same small result whatever it is given, so that
// both routes move the same bytes back and differ only in what faas does:
// at /fn/NAME it makes a function-URL event of the request and a response
// of the result.
const okHandler = `def handler(event, context):
    return {"ok": True}
`

// eventSized is an /v1 payload as large as the function-URL event of a
// call at /fn/ok/path?q=1 from Go, to tell what the event's size costs
// (carried to the agent and Python, stored on the job) from what making it
// costs.
const eventSized = `{"version":"2.0","routeKey":"$default","rawPath":"/path","rawQueryString":"q=1","headers":{"accept-encoding":"gzip",` +
	`"content-length":"7","host":"127.0.0.1:40000","user-agent":"Go-http-client/1.1"},"queryStringParameters":{"q":"1"},` +
	`"requestContext":{"accountId":"bench","apiId":"ok","domainName":"127.0.0.1:40000","domainPrefix":"ok","http":{"method":"POST",` +
	`"path":"/path","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"Go-http-client/1.1"},"requestId":"01m8f7pn4adz18vp",` +
	`"routeKey":"$default","stage":"$default","time":"27/Nov/2026:19:28:48 +0000","timeEpoch":1795721328609},"body":"{\"n\":1}","isBase64Encoded":false}`

// httpRuns are (c): the same function called through /v1/…/invoke, at
// /fn/NAME, and through /v1 with an event-sized payload, in rounds of the
// three (A B C A B C …) so that drift on a shared machine falls on all.
type httpRuns struct {
	api, fn, apiEvent []result
	conc, rounds      int
}

func measureHTTP(dir string, s *serveProc, faas string, conc int, dur time.Duration, slots int) (httpRuns, error) {
	file := filepath.Join(dir, "ok.py")
	if err := os.WriteFile(file, []byte(okHandler), 0o644); err != nil {
		return httpRuns{}, err
	}
	if _, err := s.run(faas, true, "deploy", file, "--max-instances", "2", "--concurrency", strconv.Itoa(slots), "--memory", "128M"); err != nil {
		return httpRuns{}, err
	}
	token := s.token
	api, fn := s.invokeURL("ok"), s.base+"/fn/ok/path?q=1"
	body := []byte(`{"n":1}`)
	if w := load(fn, token, 2*slots+2, 2*time.Second, body); w.n == 0 {
		return httpRuns{}, fmt.Errorf("warm-up of /fn/ok: no call succeeded: %s", w.firstErr)
	}
	r := httpRuns{conc: conc, rounds: 4}
	each := dur / time.Duration(r.rounds)
	for i := range r.rounds {
		fmt.Fprintf(os.Stderr, "(c) /v1 invoke, /fn, /v1 with an event's size, %d in flight for %s each (round %d of %d)…\n", conc, each, i+1, r.rounds)
		r.api = append(r.api, measure(api, token, conc, each, body))
		r.fn = append(r.fn, measure(fn, token, conc, each, body))
		r.apiEvent = append(r.apiEvent, measure(api, token, conc, each, []byte(eventSized)))
	}
	return r, nil
}

// rps is the throughput of runs taken together.
func rps(runs []result) float64 {
	var n int64
	var d time.Duration
	for _, r := range runs {
		n, d = n+r.n, d+r.elapsed
	}
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func (h httpRuns) print() {
	fmt.Printf("\nHTTP functions: one handler (returns {\"ok\": true}) through the invoke API and at /fn/NAME, %d in flight, %d interleaved rounds\n\n", h.conc, h.rounds)
	fmt.Println("| case | invocations/s | p50 ms (last round) | p99 ms (last round) | errors |")
	fmt.Println("|---|---|---|---|---|")
	row := func(name string, runs []result) {
		last := runs[len(runs)-1]
		var errs int64
		for _, r := range runs {
			errs += r.errors
		}
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %d |\n", name, rps(runs), ms(last.q(0.5)), ms(last.q(0.99)), errs)
	}
	row("(c) POST /v1/functions/ok/invoke, body {\"n\":1}", h.api)
	row("(c') POST /fn/ok/path?q=1, body {\"n\":1} (a function-URL event and response)", h.fn)
	row(fmt.Sprintf("(c'') POST /v1/functions/ok/invoke, a %d-byte body (an event's size)", len(eventSized)), h.apiEvent)
	ratio, ok := benchutil.Div(rps(h.fn), rps(h.api))
	fmt.Printf("\n(c')/(c) throughput: %s (at least 0.90: the conversion costs under 10 %%: %s)\n", benchutil.Times(rps(h.fn), rps(h.api)), verdict(ok, ratio >= 0.9))
	fmt.Printf("(c')/(c'') throughput: %s (making the event and the response, the event's size aside)\n", benchutil.Times(rps(h.fn), rps(h.apiEvent)))
	for _, r := range append(append(h.api, h.fn...), h.apiEvent...) {
		if r.firstErr != "" {
			fmt.Printf("first error: %q\n", r.firstErr)
			break
		}
	}
}
