# faas warm worker for Python handlers. It imports the function's file once,
# then serves invocation after invocation: length-prefixed JSON frames in on
# fd 3, out on fd 4. What the handler prints (stdout and stderr share one
# pipe) is the job's log, closed by a sentinel line after each invocation.
import importlib.util, json, os, struct, sys, time

# asyncio and traceback are imported only when needed: they cost tens of
# milliseconds of every cold start.

REQ = os.fdopen(3, "rb", buffering=0)
RESP = os.fdopen(4, "wb", buffering=0)
SENTINEL = os.environ.pop("FAAS_WORKER_SENTINEL", "").encode() + b"\n"


def read_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = REQ.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frame():
    head = read_exact(4)
    if head is None:
        return None
    body = read_exact(struct.unpack(">I", head)[0])
    return None if body is None else json.loads(body)


def send(obj):
    body = json.dumps(obj).encode("utf-8")
    RESP.write(struct.pack(">I", len(body)) + body)


def print_exc():
    import traceback
    traceback.print_exc()


def describe(e):
    return "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__


class Context:
    def __init__(self, req):
        env = os.environ
        self.function_name = env.get("FAAS_FUNCTION", "")
        self.function_version = env.get("FAAS_VERSION", "")
        self.job_id = req.get("job_id", "")
        self.aws_request_id = self.job_id
        self.memory_limit_in_mb = int(env.get("FAAS_MEMORY_MB", "0"))
        self._deadline_ms = int(req.get("deadline_ms", 0))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def end_logs():
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, SENTINEL)


def job_dir(job_id):
    """Each job's own fresh working directory, under the worker's /tmp."""
    safe = "".join(c for c in job_id if c.isalnum())[:64] or "job"
    d = os.path.join(os.environ.get("TMPDIR") or "/tmp", "job-" + safe)
    os.makedirs(d, 0o700, exist_ok=True)
    return d


def with_arity(fn):
    """Calls fn with (event, context), or (event) alone for one-argument
    handlers (OpenFaaS's handle(req), OpenWhisk's main(args))."""
    import inspect
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        varargs = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return fn
    if len(params) == 1 and not varargs:
        return lambda event, context: fn(event)
    return fn


def main():
    import shutil
    t0 = time.monotonic()
    home = os.getcwd()
    try:
        # The function's own directory first, as for a script: a directory
        # function imports its sibling modules and packages.
        sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[1])))
        spec = importlib.util.spec_from_file_location("function", sys.argv[1])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["function"] = mod
        spec.loader.exec_module(mod)
        name = os.environ.get("FAAS_HANDLER") or "handler"
        handler = getattr(mod, name, None)
        if not callable(handler):
            raise AttributeError("the file defines no function %s(): name the entry point with faas deploy --handler NAME" % name)
        call = with_arity(handler)
    except BaseException as e:
        print_exc()
        end_logs()
        send({"ready": False, "error": "init: " + describe(e)})
        return 1
    end_logs()
    send({"ready": True, "init_ms": int((time.monotonic() - t0) * 1000)})
    loop = None
    while True:
        req = read_frame()
        if req is None:
            return 0
        os.environ["FAAS_JOB_ID"] = req.get("job_id", "")
        cwd = job_dir(req.get("job_id", ""))
        os.chdir(cwd)
        raw = req.get("payload", "")
        if not raw.strip():
            event = {}
        else:
            try:
                event = json.loads(raw)
            except ValueError:
                event = raw
        try:
            r = call(event, Context(req))
            if hasattr(r, "__await__"):
                if loop is None:
                    import asyncio
                    loop = asyncio.new_event_loop()
                r = loop.run_until_complete(r)
            if isinstance(r, bytes):
                r = r.decode("utf-8", "replace")
            elif not isinstance(r, str):
                r = json.dumps(r)
            resp = {"ok": True, "result": r}
        except SystemExit as e:
            print_exc()
            end_logs()
            send({"ok": False, "error": "the handler called exit(%s)" % (e.code,)})
            return 1
        except BaseException as e:
            print_exc()
            resp = {"ok": False, "error": describe(e)}
        os.chdir(home)
        shutil.rmtree(cwd, ignore_errors=True)
        end_logs()
        send(resp)


def become():
    """A stem (a spare's worker, FAAS_STEM set) has started the interpreter
    and this bootstrap with no function: it says so, then waits for the one
    frame that makes it a function's worker (its file, its environment)
    before it reads anything of a function. What every worker imports
    anyway is imported before: the claimed worker only imports its
    function."""
    import inspect, shutil  # noqa: F401 (with_arity, main)
    send({"stem": True})
    req = read_frame()
    if req is None or not isinstance(req.get("become"), dict):
        sys.exit(0)
    b = req["become"]
    os.environ.clear()
    os.environ.update(b["env"])
    time.tzset()
    sys.argv[1:] = [b["path"]]


if os.environ.get("FAAS_STEM"):
    become()
sys.exit(main())
