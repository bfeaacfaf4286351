package fastinvoke

import "strings"

// Function is the function a command line (without the program's name)
// invokes when it is one the fast path takes, as client.c's fi_name judges
// it: `invoke NAME` with only -d/--data (not @FILE or @-: a path is the
// client's), -o/--output and --timeout. ok is false for any other.
func Function(args []string) (name string, ok bool) {
	if len(args) < 2 || args[0] != "invoke" {
		return "", false
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		var data string
		isData := false
		switch {
		case !strings.HasPrefix(a, "-"):
			if name != "" {
				return "", false
			}
			name = a
			continue
		case a == "-d" || a == "--data":
			if i++; i >= len(args) {
				return "", false
			}
			data, isData = args[i], true
		case strings.HasPrefix(a, "--data="):
			data, isData = a[len("--data="):], true
		case a == "-o" || a == "--output" || a == "--timeout":
			if i++; i >= len(args) {
				return "", false
			}
		case strings.HasPrefix(a, "--output="), strings.HasPrefix(a, "--timeout="):
		default:
			return "", false
		}
		if isData && strings.HasPrefix(data, "@") {
			return "", false
		}
	}
	return name, validName(name)
}

// validName is pkg/function.ValidateName's rule, as client.c checks it.
func validName(s string) bool {
	if s == "" || len(s) > maxName || !letter(s[0]) || s[len(s)-1] == '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !letter(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' {
			return false
		}
	}
	return true
}

func letter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
