package benchutil

import (
	"math"
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
