package benchutil

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Load is what a load run measured: the answered calls with their
// latencies (sorted), the failed ones, and the first failure's words.
type Load struct {
	N, Errors int64
	Elapsed   time.Duration
	Lat       []time.Duration
	FirstErr  string
}

// DriveHTTP keeps c POSTs of body to url in flight for d, each with
// token as a bearer token when there is one, and records each latency.
// A call counts as answered on 200 with no X-Faas-Status other than
// completed. With atLeastOne each of the c callers makes one call even
// when d is over.
func DriveHTTP(url, token string, c int, d time.Duration, body []byte, atLeastOne bool) Load {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var n, errs atomic.Int64
	var mu sync.Mutex
	var firstErr string
	lats := make([][]time.Duration, c)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := atLeastOne; first || time.Now().Before(deadline); first = false {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if st := resp.Header.Get("X-Faas-Status"); resp.StatusCode != http.StatusOK || (st != "" && st != "completed") {
						err = fmt.Errorf("%s %s", resp.Status, resp.Header.Get("X-Faas-Error"))
					}
				}
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				lats[i] = append(lats[i], time.Since(t0))
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	r := Load{N: n.Load(), Errors: errs.Load(), Elapsed: time.Since(start), FirstErr: firstErr}
	for _, l := range lats {
		r.Lat = append(r.Lat, l...)
	}
	slices.Sort(r.Lat)
	return r
}
