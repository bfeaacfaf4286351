package benchutil

import (
	"math"
	"strings"
	"testing"
)

func TestQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4, math.Inf(1)}
	for _, c := range []struct {
		q    float64
		cum  []uint64
		want float64
	}{
		{0.5, []uint64{0, 10, 10, 10}, 1.5}, // all in (1, 2]: halfway
		{0.5, []uint64{10, 10, 10, 10}, 0.5},
		{0.99, []uint64{0, 0, 100, 100}, 3.98},
		{0.5, []uint64{0, 0, 0, 4}, 4}, // in +Inf: the last finite bound
	} {
		if got := Quantile(c.q, bounds, c.cum); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", c.q, c.cum, got, c.want)
		}
	}
	if got := Quantile(0.5, bounds, []uint64{0, 0, 0, 0}); !math.IsNaN(got) {
		t.Errorf("empty histogram: %v, want NaN", got)
	}
}

func TestTimesNeverPrintsWhatWasNotMeasured(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		want string
	}{
		{10, 4, "2.50×"},
		{10, 0, "not measured"}, // a baseline that got no answer: not +Inf×
		{0, 4, "not measured"},
		{math.NaN(), 4, "not measured"},
		{math.Inf(1), 4, "not measured"},
	} {
		if got := Times(c.a, c.b); got != c.want {
			t.Errorf("Times(%v, %v) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

func TestEnvKeepsTheBenchInItsOwnHome(t *testing.T) {
	t.Setenv("FAAS_HOME", "/caller")
	t.Setenv("FAAS_SERVER", "http://caller")
	t.Setenv("FAAS_TOKEN", "t")
	t.Setenv("FAAS_DATABASE_URL", "postgres://caller")
	env := Env("/bench", "X=1")
	var got []string
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "FAAS_HOME", "FAAS_SERVER", "FAAS_TOKEN", "FAAS_DATABASE_URL", "X":
			got = append(got, e)
		}
	}
	if strings.Join(got, " ") != "FAAS_HOME=/bench X=1" {
		t.Fatalf("Env kept %v", got)
	}
}
