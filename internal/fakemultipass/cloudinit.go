package fakemultipass

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseCloudConfig does what the multipass client does with a cloud-init
// file: parse it as plain YAML.
func parseCloudConfig(data []byte) (map[string]any, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, err
	}
	if len(node.Content) == 0 {
		return map[string]any{}, nil
	}
	if node.Content[0].Kind != yaml.MappingNode {
		// The daemon then indexes "users" in a scalar.
		return nil, errScalarCloudInit
	}
	var cfg map[string]any
	if err := node.Decode(&cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

var errScalarCloudInit = errors.New(`operator[] call on a scalar (key: "users")`)

// applyCloudConfig is what cloud-init does in the fake guest: write_files
// are written under root; packages and runcmd are returned for the caller
// (packages are installed there, runcmd is only recorded). The config is
// kept as /var/lib/cloud/instance/user-data.txt and boot-finished is
// written. Failures are returned for /var/log/cloud-init-output.log, as
// cloud-init logs them: they do not fail the launch.
func applyCloudConfig(root string, cfg map[string]any, text []byte) (packages, runcmd, errs []string) {
	if files, ok := cfg["write_files"].([]any); ok {
		for _, f := range files {
			if err := writeCloudFile(root, f); err != nil {
				errs = append(errs, fmt.Sprintf("write_files: %v", err))
			}
		}
	}
	if ps, ok := cfg["packages"].([]any); ok {
		for _, p := range ps {
			packages = append(packages, fmt.Sprint(p))
		}
	}
	if rs, ok := cfg["runcmd"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				runcmd = append(runcmd, s)
				continue
			}
			b, _ := json.Marshal(r)
			runcmd = append(runcmd, string(b))
		}
	}
	_ = os.WriteFile(filepath.Join(root, "var/lib/cloud/instance/user-data.txt"), text, 0o600)
	_ = os.WriteFile(filepath.Join(root, "var/lib/cloud/instance/boot-finished"), []byte("fake\n"), 0o644)
	return packages, runcmd, errs
}

func writeCloudFile(root string, item any) error {
	m, ok := item.(map[string]any)
	if !ok {
		return fmt.Errorf("entry %v is not a mapping", item)
	}
	p, _ := m["path"].(string)
	if p == "" {
		return errors.New("entry without a path")
	}
	content := ""
	if v, ok := m["content"]; ok && v != nil {
		content = fmt.Sprint(v)
	}
	data := []byte(content)
	enc, _ := m["encoding"].(string)
	switch strings.ToLower(enc) {
	case "", "text/plain":
	case "b64", "base64":
		d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(content))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		data = d
	case "gz", "gzip", "gz+b64", "gz+base64", "gzip+b64", "gzip+base64":
		if strings.Contains(enc, "64") {
			d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(content))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			data = d
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	default:
		return fmt.Errorf("%s: unknown encoding %q", p, enc)
	}
	perm := os.FileMode(0o644)
	switch v := m["permissions"].(type) {
	case string:
		n, err := strconv.ParseUint(strings.TrimPrefix(v, "0o"), 8, 32)
		if err != nil {
			return fmt.Errorf("%s: bad permissions %q", p, v)
		}
		perm = unixMode(n)
	case int:
		perm = unixMode(uint64(v))
	}
	host := filepath.Join(root, guestPath("/", p))
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if app, _ := m["append"].(bool); app {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(host, flags, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(host, perm)
}

// unixMode turns octal permission bits (as chmod takes them) into an
// os.FileMode.
func unixMode(n uint64) os.FileMode {
	m := os.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}
