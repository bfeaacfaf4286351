package server

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/faasdev/faas/pkg/api"
	"github.com/faasdev/faas/pkg/engine"
	"github.com/faasdev/faas/pkg/fault"
	"github.com/faasdev/faas/pkg/function"
)

func (s *Server) deploy(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	req, err := readDeploy(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	res, err := eng.Deploy(r.Context(), req.Engine())
	if err != nil {
		s.fail(w, err)
		return
	}
	fn, err := eng.Function(r.Context(), res.Function)
	if err != nil {
		s.fail(w, err)
		return
	}
	code := http.StatusOK
	if res.Created {
		code = http.StatusCreated
	}
	d := api.Deployed{Function: api.NewFunction(fn), Created: res.Created, Notice: res.Notice,
		Warning: res.Warning, EnvChanges: res.EnvChanges, Built: res.Built}
	if res.Built {
		d.BuildLog = string(res.Version.BuildLog)
	}
	writeJSON(w, code, d)
}

// readDeploy reads a deploy as JSON (code in base64) or as a multipart
// form: the file in the part "file", the rest in the part "request" (the
// same JSON without code) or as fields name, runtime, mode, provider.
func readDeploy(r *http.Request) (api.DeployRequest, error) {
	// Keys left out take the same defaults as `faas deploy`'s flags.
	req := api.DeployRequest{Config: function.DefaultConfig()}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "":
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, bodyErr(err, "read the deploy request")
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(DeployLimit); err != nil {
			return req, bodyErr(err, "read the deploy form")
		}
		if v := r.FormValue("request"); v != "" {
			if err := json.Unmarshal([]byte(v), &req); err != nil {
				return req, fault.Usagef("the deploy form's request part: %v", err)
			}
		}
		for k, p := range map[string]*string{"name": &req.Name, "runtime": &req.Runtime, "mode": &req.Mode, "provider": &req.Provider} {
			if v := r.FormValue(k); v != "" {
				*p = v
			}
		}
		f, h, err := r.FormFile("file")
		if err != nil {
			return req, fault.Usagef("the deploy form has no file part: %v", err)
		}
		defer f.Close()
		if req.Code, err = io.ReadAll(f); err != nil {
			return req, bodyErr(err, "read the deployed file")
		}
		if req.Filename == "" {
			req.Filename = h.Filename
		}
	default:
		return req, fault.Usagef("unsupported Content-Type %q: send application/json or multipart/form-data", ct)
	}
	if req.Filename == "" {
		return req, fault.Usagef("the deploy request names no filename: it decides the runtime and, without a name, the function's name")
	}
	return req, nil
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	fns, err := eng.Functions(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]api.Function, 0, len(fns))
	for _, f := range fns {
		out = append(out, api.NewFunction(f))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getFunction(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	fn, err := eng.Function(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewFunction(fn))
}

func (s *Server) removeFunction(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	if err := eng.Remove(r.Context(), r.PathValue("name")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	to := 0
	if v := r.URL.Query().Get("to"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, fault.Usagef("to=%s: use a version number", v))
			return
		}
		to = n
	}
	from, now, err := eng.Rollback(r.Context(), r.PathValue("name"), to)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.RolledBack{From: from, Version: now})
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	fn, err := eng.Function(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	vs, err := eng.Versions(r.Context(), fn.Name)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NewVersions(vs, fn.Current.Version))
}

// versionCode answers a version's code as its bytes, its file name in
// X-Faas-Filename (version 0: the current one).
func (s *Server) versionCode(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil {
		s.fail(w, fault.Usagef("version %q is not a number", r.PathValue("version")))
		return
	}
	v, err := eng.VersionCode(r.Context(), r.PathValue("name"), n)
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Faas-Filename", v.Filename)
	w.Header().Set("X-Faas-Version", strconv.Itoa(v.Version))
	w.Header().Set("X-Faas-Sha256", v.SHA256)
	if v.Tree {
		w.Header().Set("Content-Type", "application/x-tar")
		w.Header().Set("X-Faas-Tree", "true")
	}
	_, _ = w.Write(v.Code)
}

func (s *Server) buildLog(w http.ResponseWriter, r *http.Request, eng *engine.Engine) {
	log, err := eng.BuildLog(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(log)
}
