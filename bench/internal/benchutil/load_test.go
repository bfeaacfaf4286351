package benchutil

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestDriveHTTPCountsAnswersAndFailures(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if calls.Add(1)%2 == 0 {
			w.Header().Set("X-Faas-Status", "failed")
		}
	}))
	defer srv.Close()
	l := DriveHTTP(srv.URL, "tok", 3, 0, []byte("{}"), true)
	if l.N+l.Errors != 3 || l.N != int64(len(l.Lat)) || l.Errors == 0 || l.FirstErr == "" {
		t.Fatalf("one call each of 3 callers, every other one failed: got %+v", l)
	}
	if l := DriveHTTP(srv.URL, "", 2, 0, nil, true); l.N != 0 || l.Errors != 2 {
		t.Fatalf("without the token every call fails: got %+v", l)
	}
	if l := DriveHTTP(srv.URL, "tok", 2, 0, nil, false); l.N+l.Errors != 0 {
		t.Fatalf("no time and not atLeastOne: no call, got %+v", l)
	}
}
