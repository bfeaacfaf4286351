# faas handler bootstrap: imports the function's file, calls
# handler(event, context) once, and writes a JSON envelope to fd 3.
# What the handler prints goes to the job's logs (stdout and stderr).
import asyncio, importlib.util, inspect, json, os, sys, time, traceback


class Context:
    def __init__(self):
        env = os.environ
        self.function_name = env.get("FAAS_FUNCTION", "")
        self.function_version = env.get("FAAS_VERSION", "")
        self.job_id = env.get("FAAS_JOB_ID", "")
        self.aws_request_id = self.job_id
        self.memory_limit_in_mb = int(env.get("FAAS_MEMORY_MB", "0"))
        self._deadline_ms = int(env.get("FAAS_DEADLINE_MS", "0"))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def describe(e):
    return "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__


def main():
    out = os.fdopen(3, "wb")

    def send(obj):
        out.write(json.dumps(obj).encode("utf-8") + b"\n")
        out.flush()

    t0 = time.monotonic()
    try:
        spec = importlib.util.spec_from_file_location("function", sys.argv[1])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["function"] = mod
        spec.loader.exec_module(mod)
        handler = getattr(mod, "handler")
    except BaseException as e:
        traceback.print_exc()
        send({"ok": False, "error": "init: " + describe(e)})
        return 1
    init_ms = int((time.monotonic() - t0) * 1000)

    raw = sys.stdin.buffer.read()
    if not raw.strip():
        event = {}
    else:
        try:
            event = json.loads(raw)
        except ValueError:
            event = raw.decode("utf-8", "replace")
    try:
        r = handler(event, Context())
        if inspect.isawaitable(r):
            r = asyncio.run(r) if inspect.iscoroutine(r) else asyncio.get_event_loop().run_until_complete(r)
        if isinstance(r, bytes):
            r = r.decode("utf-8", "replace")
        elif not isinstance(r, str):
            r = json.dumps(r)
    except BaseException as e:
        traceback.print_exc()
        send({"ok": False, "error": describe(e), "init_ms": init_ms})
        return 1
    sys.stdout.flush()
    send({"ok": True, "result": r, "init_ms": init_ms})
    return 0


sys.exit(main())
