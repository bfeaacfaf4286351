package function

import (
	"fmt"
	"strings"

	"github.com/faasdev/faas/pkg/fault"
)

// SecretRef is a secret a version reads, by name: always as the file
// /run/secrets/NAME (OpenFaaS's convention), and as the environment
// variable Env when it is set. A version records the name, never the
// value, which lives only in the owner's encrypted secret store.
type SecretRef struct {
	Name string `json:"name"`
	Env  string `json:"env,omitempty"`
}

// String is the ref as --secret takes it: NAME or NAME=ENV.
func (s SecretRef) String() string {
	if s.Env != "" {
		return s.Name + "=" + s.Env
	}
	return s.Name
}

// Secret limits: a value is at most MaxSecretBytes (Kubernetes' and
// OpenFaaS's limit is 1 MiB; Lambda's environment is 4 KiB in all), and
// a version reads at most MaxSecrets.
const (
	MaxSecretBytes      = 64 << 10
	MaxSecrets          = 32
	MaxSecretNameLength = 63
)

// secretNameRE is a DNS label (Kubernetes' secret names, and so
// OpenFaaS's): a file name under /run/secrets that needs no quoting.
var secretNameRE = lazyRE(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

// ValidateSecretName checks a secret's name.
func ValidateSecretName(name string) error {
	switch {
	case name == "":
		return fault.Usagef("secret name is empty")
	case len(name) > MaxSecretNameLength:
		return fault.Usagef("secret name %q is longer than %d characters", name, MaxSecretNameLength)
	case !secretNameRE().MatchString(name) || strings.Contains(name, ".."):
		return fault.Usagef("invalid secret name %q: use lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit", name)
	}
	return nil
}

// ParseSecretRef reads NAME or NAME=ENVVAR.
func ParseSecretRef(s string) (SecretRef, error) {
	name, env, _ := strings.Cut(s, "=")
	ref := SecretRef{Name: name, Env: env}
	if err := ValidateSecretName(name); err != nil {
		return ref, fault.Usagef("--secret %q: %v", s, err)
	}
	if strings.Contains(s, "=") {
		if err := validateEnv(env, ""); err != nil {
			return ref, fault.Usagef("--secret %q: %v", s, err)
		}
	}
	return ref, nil
}

// validSecrets checks a version's secret refs: valid names, each name and
// each variable once, no variable that the environment also sets.
func validSecrets(refs []SecretRef, env map[string]string) error {
	if len(refs) > MaxSecrets {
		return fault.Usagef("%d secrets: a function reads at most %d", len(refs), MaxSecrets)
	}
	names, vars := map[string]bool{}, map[string]bool{}
	for _, r := range refs {
		if err := ValidateSecretName(r.Name); err != nil {
			return err
		}
		if names[r.Name] {
			return fault.Usagef("secret %s is named twice", r.Name)
		}
		names[r.Name] = true
		if r.Env == "" {
			continue
		}
		if err := validateEnv(r.Env, ""); err != nil {
			return fault.Usagef("secret %s: %v", r.Name, err)
		}
		if vars[r.Env] {
			return fault.Usagef("two secrets set the variable %s", r.Env)
		}
		if _, ok := env[r.Env]; ok {
			return fault.Usagef("secret %s sets %s, which --env also sets: drop one", r.Name, r.Env)
		}
		vars[r.Env] = true
	}
	return nil
}

// SecretRefs formats refs for a message: "db, api-key=API_KEY".
func SecretRefs(refs []SecretRef) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = fmt.Sprint(r)
	}
	return strings.Join(s, ", ")
}
