package logging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/faasdev/faas/pkg/logging"
)

func TestJSONLinesParse(t *testing.T) {
	var buf bytes.Buffer
	lg := logging.New(&buf, logging.JSON)
	lg.Info("job ended", logging.JobID, "01m8abc", "function", "hello", "status", "completed")
	lg.Warn("a line\nwith \"quotes\"", "n", 3)
	sc := bufio.NewScanner(&buf)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["job_id"] != "01m8abc" || lines[0]["msg"] != "job ended" || lines[0]["level"] != "INFO" || lines[0]["time"] == nil {
		t.Fatalf("lines = %v", lines)
	}
}

func TestFormat(t *testing.T) {
	t.Setenv(logging.Env, "")
	if f, err := logging.Format(""); f != logging.Text || err != nil {
		t.Errorf("Format(\"\") = %q, %v; want text", f, err)
	}
	t.Setenv(logging.Env, "JSON")
	if f, err := logging.Format(""); f != logging.JSON || err != nil {
		t.Errorf("with $%s=JSON, Format(\"\") = %q, %v", logging.Env, f, err)
	}
	if f, err := logging.Format("text"); f != logging.Text || err != nil {
		t.Errorf("the flag wins over the variable: %q, %v", f, err)
	}
	if _, err := logging.Format("xml"); err == nil {
		t.Error("Format(xml) = nil error")
	}
	var buf bytes.Buffer
	logging.New(&buf, logging.Text).Info("started", logging.JobID, "j1")
	if !strings.Contains(buf.String(), "job_id=j1") || !strings.Contains(buf.String(), "msg=started") {
		t.Errorf("text line = %q", buf.String())
	}
}
