// Command gen-docs writes what is generated from faas' own command tree:
// shell completions (completions/), man pages (docs/man/) and the CLI
// reference (docs/cli/). The output is byte-stable: no generation tag, and
// the man pages' date comes from SOURCE_DATE_EPOCH (scripts/gen-docs.sh
// fixes it, so that CI can regenerate and compare).
//
//	go run ./cmd/gen-docs [-root .]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/faasdev/faas/pkg/cmd/root"
	"github.com/faasdev/faas/pkg/cmdutil"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/iostreams"
)

func main() {
	dir := flag.String("root", ".", "repository root to write into")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen-docs:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	io, _, _, _ := iostreams.Test()
	none := func() (*engine.Engine, error) { return nil, fault.Platformf("gen-docs opens no database") }
	f := &cmdutil.Factory{IOStreams: io, Engine: none, Local: none,
		Backend: func() (cmdutil.Backend, error) { return nil, fault.Platformf("gen-docs opens no database") }, Close: func() {}}
	cmd := root.NewCmd(f)
	cmd.InitDefaultCompletionCmd()
	cmd.InitDefaultHelpCmd()
	cmd.DisableAutoGenTag = true
	for _, c := range cmd.Commands() {
		disableTag(c)
	}

	date := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
		}
		date = time.Unix(n, 0).UTC()
	}

	comp := filepath.Join(dir, "completions")
	if err := os.MkdirAll(comp, 0o755); err != nil {
		return err
	}
	gens := map[string]func(*bytes.Buffer) error{
		"faas.bash": func(b *bytes.Buffer) error { return cmd.GenBashCompletionV2(b, true) },
		"faas.zsh":  func(b *bytes.Buffer) error { return cmd.GenZshCompletion(b) },
		"faas.fish": func(b *bytes.Buffer) error { return cmd.GenFishCompletion(b, true) },
		"faas.ps1":  func(b *bytes.Buffer) error { return cmd.GenPowerShellCompletionWithDesc(b) },
	}
	for name, gen := range gens {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(comp, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}

	man := filepath.Join(dir, "docs", "man")
	cli := filepath.Join(dir, "docs", "cli")
	for _, d := range []string{man, cli} {
		// Regenerate from scratch so that removed commands leave no page.
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	header := &doc.GenManHeader{Title: "FAAS", Section: "1", Date: &date, Source: "faas", Manual: "faas manual"}
	if err := doc.GenManTree(cmd, header, man); err != nil {
		return err
	}
	return doc.GenMarkdownTree(cmd, cli)
}

func disableTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, s := range c.Commands() {
		disableTag(s)
	}
}
