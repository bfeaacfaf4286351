package e2e

import "fmt"

// condition answers [fake]: whether the scripts run against the stand-in
// (which can inject faults and be looked inside) or a real Multipass.
func condition(fake bool) func(string) (bool, error) {
	return func(cond string) (bool, error) {
		if cond == "fake" {
			return fake, nil
		}
		return false, fmt.Errorf("unknown condition %q", cond)
	}
}
