package deploy

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/faasdev/faas/pkg/build"
	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

// Stdin is the PATH that reads the function from stdin.
const Stdin = "-"

// source reads what PATH names into r: one file, as it is (its code the
// file's bytes), or a tree (a directory or an archive, its code the
// bundle's canonical tar and its Filename the path of the entry file in
// it). It returns the entry file's code, for the syntax check, and the
// path to name in its errors.
func (o *Options) source(r *engine.DeployRequest) (entry []byte, display string, err error) {
	var b *bundle.Bundle
	if o.File == Stdin {
		if o.Name == "" {
			return nil, "", fault.WithHint(fault.Usagef("a function on stdin needs a name"), "add --name NAME")
		}
		name := o.Name
		if r.Runtime != "" {
			name += runtimeExt[r.Runtime]
		}
		if b, err = bundle.Read(o.IO.In, name, bundle.Options{}); err != nil {
			return nil, "", err
		}
		if b.Single() && r.Runtime == "" {
			return nil, "", fault.WithHint(fault.Usagef("a single file on stdin has no extension to tell its runtime by"),
				"add --runtime python|node|bash|exec")
		}
	} else if b, err = bundle.Open(o.File, bundle.Options{}); err != nil {
		return nil, "", err
	}
	if b.Single() {
		f := b.Files()[0]
		if o.handlerFile != "" && o.handlerFile != f.Path && o.handlerFile != filepath.Base(o.File) {
			return nil, "", fault.Usagef("--handler %s:%s: the file is %s", o.handlerFile, o.Handler, f.Path)
		}
		if err := function.CheckCode(o.File, f.Data); err != nil {
			return nil, "", err
		}
		r.Code = f.Data
		if o.File != Stdin {
			r.Filename = o.File
		} else {
			r.Filename = f.Path
		}
		return f.Data, r.Filename, nil
	}
	file, err := bundle.FindHandlerFile(b, o.handlerFile)
	if err != nil {
		return nil, "", err
	}
	entry, _ = b.File(file)
	if err := function.CheckCode(file, entry); err != nil {
		return nil, "", err
	}
	// A package.json without its lock fails here, before anything is sent
	// (a manifest's whole check), not at the build.
	rt := r.Runtime
	if rt == "" {
		rt = function.RuntimeFromFile(file)
	}
	if _, err := build.Needs(rt, b.Dependencies()); err != nil {
		return nil, "", err
	}
	if r.Name == "" && o.File != Stdin {
		abs, _ := filepath.Abs(o.File)
		r.Name = function.NameFromFile(strings.TrimSuffix(strings.TrimSuffix(abs, ".tar.gz"), ".tgz"))
	}
	r.Code, r.Tree, r.Filename = b.Tar(), true, file
	display = file
	if o.File != Stdin {
		if fi, err := os.Stat(o.File); err == nil && fi.IsDir() {
			display = path.Join(filepath.ToSlash(o.File), file)
		}
	}
	return entry, display, nil
}

// runtimeExt names a file on stdin whose runtime --runtime gives.
var runtimeExt = map[function.Runtime]string{function.Python: ".py", function.Node: ".js", function.Bash: ".sh", function.Exec: ""}
