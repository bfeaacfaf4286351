package bundle

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkOpenDir opens a tree of 200 files in 20 directories, 2 KiB
// each, with a .faasignore and an ignored node_modules.
func BenchmarkOpenDir(b *testing.B) {
	dir := b.TempDir()
	var es []ent
	for d := range 20 {
		for f := range 10 {
			es = append(es, ent{name: fmt.Sprintf("pkg%02d/mod%02d.py", d, f), body: strings.Repeat("x = 1\n", 340)})
		}
	}
	es = append(es, ent{name: IgnoreFile, body: "*.log\n!keep.log\nbuild/\n"}, ent{name: "node_modules/x/index.js", body: "junk"})
	writeTree(b, dir, es)
	b.ReportAllocs()
	for b.Loop() {
		bu, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(bu.Files()) != 200 {
			b.Fatalf("%d files", len(bu.Files()))
		}
		_ = bu.SHA256()
	}
}
