package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsParse: /metrics is Prometheus text that Prometheus' own
// parser reads, with faas' series and the process's and Go runtime's; a
// scraper that asks for OpenMetrics gets it.
func TestMetricsParse(t *testing.T) {
	base, _, tokens := start(t, "ada")
	c := &http.Client{}
	code := base64.StdEncoding.EncodeToString([]byte("def handler(event, context):\n    return 'hi'\n"))
	if resp, b := do(t, c, http.MethodPost, base+"/v1/functions", tokens["ada"], []byte(`{"name": "m", "filename": "f.py", "code": "`+code+`"}`)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy: %s %s", resp.Status, b)
	}
	for range 2 {
		if resp, b := do(t, c, http.MethodPost, base+"/v1/functions/m/invoke", tokens["ada"], nil); resp.StatusCode != 200 {
			t.Fatalf("invoke: %s %s", resp.Status, b)
		}
	}
	resp, b := do(t, c, http.MethodGet, base+"/metrics", tokens["ada"], nil)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want Prometheus text", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the text parser refuses /metrics: %v\n%s", err, b)
	}
	counter := func(name string, label ...string) float64 {
		f := fams[name]
		if f == nil {
			t.Fatalf("no %s in /metrics", name)
		}
		for _, m := range f.GetMetric() {
			ok := true
			for i := 0; i+1 < len(label); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == label[i] && l.GetValue() == label[i+1])
				}
				ok = ok && found
			}
			if ok {
				return m.GetCounter().GetValue()
			}
		}
		t.Fatalf("%s has no series %v", name, label)
		return 0
	}
	if n := counter("faas_invocations_total", "status", "completed"); n != 2 {
		t.Errorf("faas_invocations_total{status=completed} = %v, want 2", n)
	}
	if n := counter("faas_cold_starts_total"); n != 1 {
		t.Errorf("faas_cold_starts_total = %v, want 1", n)
	}
	if h := fams["faas_platform_overhead_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 2 || len(h.GetBucket()) < 10 {
		t.Errorf("faas_platform_overhead_seconds = %v", h)
	}
	for _, name := range []string{"faas_errors_total", "faas_async_submitted_total", "faas_throttled_total", "faas_http_requests_total",
		"faas_invocation_duration_seconds", "faas_queue_waiting", "faas_inflight_invocations",
		"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+tokens["ada"])
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	om, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(om.Body)
	om.Body.Close()
	if ct := om.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.HasSuffix(body.String(), "# EOF\n") {
		t.Errorf("asked for OpenMetrics, got %q ending %q", ct, body.String()[max(0, body.Len()-20):])
	}
}

// TestGrafanaDashboardSeries: every series docs/grafana-dashboard.json
// queries is one /metrics serves.
func TestGrafanaDashboardSeries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	base, _, tokens := start(t, "ada")
	do(t, &http.Client{}, http.MethodGet, base+"/v1/functions", tokens["ada"], nil) // a request to count
	_, m := do(t, &http.Client{}, http.MethodGet, base+"/metrics", tokens["ada"], nil)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(m))
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`\b(faas|go|process)_[a-z_]+`)
	n := 0
	for _, panel := range dash.Panels {
		for _, target := range panel.Targets {
			for _, s := range name.FindAllString(target.Expr, -1) {
				n++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "_bucket"), "_count"), "_sum")
				if fams[base] == nil {
					t.Errorf("panel %q queries %s, which /metrics does not serve", panel.Title, s)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("the dashboard queries only %d series", n)
	}
}
