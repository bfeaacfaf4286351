package agent

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/function"
)

// payloadEnvLimit is the largest payload also passed in FAAS_PAYLOAD.
const payloadEnvLimit = 32 << 10

// environ is everything a function's process sees: what it was given and
// what faas sets, never the caller's environment. jobID and payload may be
// empty for a warm worker, which learns them per invocation.
func environ(inv faastype.Invocation, workdir string, deadline time.Time) []string {
	return function.EnvList(environVars(inv, workdir, deadline))
}

// environVars is environ as a map.
func environVars(inv faastype.Invocation, workdir string, deadline time.Time) map[string]string {
	cfg := inv.Config
	env := map[string]string{
		"PATH":            "/usr/local/bin:/usr/bin:/bin",
		"HOME":            workdir,
		"TMPDIR":          workdir,
		"LANG":            "C.UTF-8",
		"FAAS_FUNCTION":   inv.Function,
		"FAAS_VERSION":    strconv.Itoa(inv.Version),
		"FAAS_RUNTIME":    string(cfg.Runtime),
		"FAAS_MODE":       string(cfg.Mode),
		"FAAS_MEMORY_MB":  strconv.FormatInt(cfg.MemoryMB, 10),
		"FAAS_TIMEOUT_MS": strconv.FormatInt(inv.EffectiveTimeout().Milliseconds(), 10),
	}
	if cfg.Mode == function.Handler {
		env["FAAS_HANDLER"] = cfg.Entry()
	}
	if inv.JobID != "" {
		env["FAAS_JOB_ID"] = inv.JobID
		env["FAAS_DEADLINE_MS"] = strconv.FormatInt(deadline.UnixMilli(), 10)
	}
	if cfg.Runtime == function.Python {
		env["PYTHONUNBUFFERED"] = "1"
		env["PYTHONDONTWRITEBYTECODE"] = "1"
	}
	if inv.JobID != "" && len(inv.Payload) <= payloadEnvLimit && utf8.Valid(inv.Payload) && bytes.IndexByte(inv.Payload, 0) < 0 {
		env["FAAS_PAYLOAD"] = string(inv.Payload)
	}
	for k, v := range cfg.Env {
		env[k] = v
	}
	// A secret named NAME=VAR is also $VAR (a value with a NUL byte can
	// only be read from its file).
	for _, r := range cfg.Secrets {
		if v, ok := inv.Secrets[r.Name]; ok && r.Env != "" && bytes.IndexByte(v, 0) < 0 {
			env[r.Env] = string(v)
		}
	}
	return env
}
