package web

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/bundle"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/faastype"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
	"github.com/faasdev/faas/pkg/store"
)

func (d *Dashboard) functionsPage(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	fns, err := eng.Functions(r.Context())
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	d.render(w, http.StatusOK, "functions.html", d.view(s, "Functions", "functions", r.URL.Query().Get("notice"), fns))
}

func (d *Dashboard) view(s *session, title, nav, notice string, data any) view {
	return view{Title: title, Nav: nav, Owner: s.owner, Dev: d.o.Dev, CSRF: s.csrf, Notice: notice, Data: data}
}

// deploy takes the upload form: a file, or an archive (zip, tar.gz, tar)
// of a directory, as `faas deploy` takes them.
func (d *Dashboard) deploy(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	req, err := deployRequest(r)
	if err == nil {
		var res engine.DeployResult
		if res, err = eng.Deploy(r.Context(), req); err == nil {
			notice := "deployed " + res.Function + " version " + strconv.Itoa(res.Version.Version)
			if !res.Created {
				notice = res.Function + " is unchanged (the same code and config)"
			}
			http.Redirect(w, r, Prefix+"functions/"+url.PathEscape(res.Function)+"?notice="+url.QueryEscape(notice), http.StatusSeeOther)
			return
		}
	}
	fns, _ := eng.Functions(r.Context())
	v := d.view(s, "Functions", "functions", "", fns)
	code, body := api.NewError(err)
	v.Error, v.Hint = body.Error, body.Hint
	d.render(w, code, "functions.html", v)
}

func deployRequest(r *http.Request) (engine.DeployRequest, error) {
	// A redeploy changes only the settings the form names, as `faas
	// deploy` with only those flags does.
	req := engine.DeployRequest{Config: function.DefaultConfig(), Keep: true}
	f, h, err := r.FormFile("file")
	if err != nil {
		return req, fault.Usagef("choose a file or an archive to deploy")
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return req, fault.Usagef("read the uploaded file: %v", err)
	}
	filename := h.Filename
	req.Name = strings.TrimSpace(r.PostFormValue("name"))
	req.Runtime = function.Runtime(r.PostFormValue("runtime"))
	if err := formConfig(r, &req.Config, &req.Set); err != nil {
		return req, err
	}
	b, err := bundle.Read(bytes.NewReader(data), filename, bundle.Options{})
	if err != nil {
		return req, err
	}
	if b.Single() {
		req.Code, req.Filename = data, filename
		return req, nil
	}
	entry, err := bundle.FindHandlerFile(b, "")
	if err != nil {
		return req, err
	}
	if req.Name == "" {
		base := filename
		for _, ext := range []string{".tar.gz", ".tgz", ".tar", ".zip"} {
			base = strings.TrimSuffix(base, ext)
		}
		req.Name = function.NameFromFile(base)
	}
	req.Code, req.Tree, req.Filename = b.Tar(), true, entry
	return req, nil
}

// formConfig reads the settings a form names into c; set, when given,
// hears the deploy flags' names of those it changed.
func formConfig(r *http.Request, c *function.Config, set *[]string) error {
	num := func(field, flag string, apply func(int64)) error {
		v := strings.TrimSpace(r.PostFormValue(field))
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fault.Usagef("%s: %q is not a whole number", field, v)
		}
		apply(n)
		if set != nil {
			*set = append(*set, flag)
		}
		return nil
	}
	for _, f := range []struct {
		field, flag string
		apply       func(int64)
	}{
		{"memory_mb", "memory", func(n int64) { c.MemoryMB = n }},
		{"timeout_s", "timeout", func(n int64) { c.TimeoutMS = n * 1000 }},
		{"concurrency", "concurrency", func(n int64) { c.Concurrency = int(n) }},
		{"min_instances", "min-instances", func(n int64) { c.MinInstances = int(n) }},
		{"max_instances", "max-instances", func(n int64) { c.MaxInstances = int(n) }},
	} {
		if err := num(f.field, f.flag, f.apply); err != nil {
			return err
		}
	}
	return nil
}

// functionView is the function page's data.
type functionView struct {
	Fn       store.Function
	Versions []store.Version
	Jobs     []store.Job
	Payload  string
	// Result is the job an invoke from this page ran.
	Result *store.Job
}

func (d *Dashboard) functionPage(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	d.renderFunction(w, r, s, eng, http.StatusOK, r.URL.Query().Get("notice"), nil, "{}")
}

func (d *Dashboard) renderFunction(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine, code int, notice string, result *store.Job, payload string) {
	name := r.PathValue("name")
	fn, err := eng.Function(r.Context(), name)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	vs, err := eng.Versions(r.Context(), fn.Name)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	jobs, err := eng.Jobs(r.Context(), store.JobFilter{Function: fn.Name, Limit: 10})
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	// Newest first, as `faas versions` lists them.
	for i, j := 0, len(vs)-1; i < j; i, j = i+1, j-1 {
		vs[i], vs[j] = vs[j], vs[i]
	}
	d.render(w, code, "function.html", d.view(s, fn.Name, "functions", notice,
		functionView{Fn: fn, Versions: vs, Jobs: jobs, Result: result, Payload: payload}))
}

// invoke runs the function with the form's payload and shows the result
// on the function's page.
func (d *Dashboard) invoke(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	payload := r.PostFormValue("payload")
	req := engine.InvokeRequest{Name: r.PathValue("name"), Payload: []byte(payload), Trigger: faastype.TriggerAPI}
	if v := strings.TrimSpace(r.PostFormValue("timeout_s")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			d.errorPage(w, r, s, fault.Usagef("timeout: %q is not a positive number of seconds", v))
			return
		}
		req.Timeout = time.Duration(n) * time.Second
	}
	job, err := d.o.Invoke(r.Context(), eng, req)
	if err != nil && job.ID == "" {
		d.errorPage(w, r, s, err)
		return
	}
	d.renderFunction(w, r, s, eng, http.StatusOK, "", &job, payload)
}

func (d *Dashboard) rollback(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	to := 0
	if v := r.PostFormValue("to"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			d.errorPage(w, r, s, fault.Usagef("to=%s: use a version number", v))
			return
		}
		to = n
	}
	name := r.PathValue("name")
	from, now, err := eng.Rollback(r.Context(), name, to)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	notice := "rolled back from version " + strconv.Itoa(from) + " to " + strconv.Itoa(now)
	http.Redirect(w, r, Prefix+"functions/"+url.PathEscape(name)+"?notice="+url.QueryEscape(notice), http.StatusSeeOther)
}

// configure redeploys the current code with the settings the form
// changes, as `faas deploy` with only those flags does.
func (d *Dashboard) configure(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	name := r.PathValue("name")
	v, err := eng.VersionCode(r.Context(), name, 0)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	req := engine.DeployRequest{Name: name, Filename: v.Filename, Code: v.Code, Tree: v.Tree, Config: v.Config, Keep: true}
	if err := formConfig(r, &req.Config, &req.Set); err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	res, err := eng.Deploy(r.Context(), req)
	if err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	notice := "the settings are unchanged"
	if res.Created {
		notice = "version " + strconv.Itoa(res.Version.Version) + " has the new settings"
	}
	http.Redirect(w, r, Prefix+"functions/"+url.PathEscape(name)+"?notice="+url.QueryEscape(notice), http.StatusSeeOther)
}

func (d *Dashboard) remove(w http.ResponseWriter, r *http.Request, s *session, eng *engine.Engine) {
	name := r.PathValue("name")
	if err := eng.Remove(r.Context(), name); err != nil {
		d.errorPage(w, r, s, err)
		return
	}
	http.Redirect(w, r, Prefix+"functions?notice="+url.QueryEscape("removed "+name), http.StatusSeeOther)
}
