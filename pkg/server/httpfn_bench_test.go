package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/function"
)

// BenchmarkServeHTTPFunction calls one handler through the invoke API and
// at /fn/NAME: the difference is what the function-URL event and response
// cost.
func BenchmarkServeHTTPFunction(b *testing.B) {
	base, e, tokens := start(b, "bench")
	code := []byte("def handler(event, context):\n    return {\"ok\": True}\n")
	cfg := function.DefaultConfig()
	cfg.MaxInstances, cfg.Concurrency = 2, 2
	if _, err := e.As("bench").Deploy(context.Background(), engine.DeployRequest{Filename: "ok.py", Code: code, Config: cfg}); err != nil {
		b.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, route := range []struct{ name, url string }{{"api", base + "/v1/functions/ok/invoke"}, {"fn", base + "/fn/ok/path?q=1"},
		{"api-event", base + "/v1/functions/ok/invoke"}} {
		b.Run(route.name, func(b *testing.B) {
			if resp, body := do(b, c, http.MethodPost, route.url, tokens["bench"], []byte(`{}`)); resp.StatusCode != 200 {
				b.Fatalf("%s %s", resp.Status, body)
			}
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, body := do(b, c, http.MethodPost, route.url, tokens["bench"], payload(route.name))
					if resp.StatusCode != 200 || resp.Header.Get("X-Faas-Status") != "completed" {
						b.Fatalf("%s %s %s", resp.Status, resp.Header.Get("X-Faas-Error"), body)
					}
				}
			})
		})
	}
}

// payload is a call's body: an event's worth for api-event, the size the
// function-URL event of the fn route is.
func payload(route string) []byte {
	if route != "api-event" {
		return []byte(`{"n":1}`)
	}
	return []byte(`{"version":"2.0","routeKey":"$default","rawPath":"/path","rawQueryString":"q=1","headers":{"accept-encoding":"gzip",` +
		`"content-length":"7","host":"127.0.0.1:40000","user-agent":"Go-http-client/1.1"},"queryStringParameters":{"q":"1"},` +
		`"requestContext":{"accountId":"bench","apiId":"ok","domainName":"127.0.0.1:40000","domainPrefix":"ok","http":{"method":"POST",` +
		`"path":"/path","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"Go-http-client/1.1"},"requestId":"01m8f7pn4adz18vp",` +
		`"routeKey":"$default","stage":"$default","time":"27/Nov/2026:19:28:48 +0000","timeEpoch":1795721328609},"body":"{\"n\":1}","isBase64Encoded":false}`)
}
