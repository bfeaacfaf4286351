package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/billing"
)

// parsePages parses each page with the layout it is drawn in.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n))
	}
	return pages
}

var funcs = template.FuncMap{
	"usd": func(pico int64) string { return "$" + billing.Pico(pico).String() },
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<30:
			return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"ms": func(d time.Duration) string {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"seconds": func(msec int64) string {
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", float64(msec)/1000), "0"), ".")
	},
	// pretty shows JSON indented, anything else as it is.
	"pretty": func(b []byte) string {
		var v any
		if json.Unmarshal(b, &v) == nil {
			if out, err := json.MarshalIndent(v, "", "  "); err == nil {
				return string(out)
			}
		}
		return string(b)
	},
	"addCost": func(a, b int64) int64 { return a + b },
	"div1000": func(n int64) int64 { return n / 1000 },
	"mod6":    func(i int) int { return i % 6 },
	"pct":     func(f float64) string { return fmt.Sprintf("%.1f %%", f) },
	"ended":   func(status string) bool { return status != "waiting" && status != "running" },
}
