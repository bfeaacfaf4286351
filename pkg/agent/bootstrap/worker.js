// faas warm worker for Node handlers. It imports the function's file once,
// then serves invocation after invocation: length-prefixed JSON frames in on
// fd 3, out on fd 4. What the handler logs (stdout and stderr share one
// pipe, written synchronously) is the job's log, closed by a sentinel line.
const fs = require("fs");
const { pathToFileURL } = require("url");

const SENTINEL = (process.env.FAAS_WORKER_SENTINEL || "") + "\n";
delete process.env.FAAS_WORKER_SENTINEL;

function readExact(n) {
  const buf = Buffer.alloc(n);
  let off = 0;
  while (off < n) {
    let r;
    try {
      r = fs.readSync(3, buf, off, n - off, null);
    } catch (e) {
      if (e.code === "EAGAIN") continue;
      if (e.code === "EOF") return null;
      throw e;
    }
    if (r === 0) return null;
    off += r;
  }
  return buf;
}

function readFrame() {
  const head = readExact(4);
  if (head === null) return null;
  const body = readExact(head.readUInt32BE(0));
  return body === null ? null : JSON.parse(body.toString("utf8"));
}

function send(obj) {
  const body = Buffer.from(JSON.stringify(obj), "utf8");
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  fs.writeSync(4, Buffer.concat([head, body]));
}

function endLogs() {
  fs.writeSync(1, SENTINEL);
}

function describe(e) {
  if (e instanceof Error) return e.name + ": " + e.message;
  return String(e);
}

async function main() {
  const file = process.argv[process.argv.length - 1];
  const t0 = process.hrtime.bigint();
  let handler;
  try {
    const mod = await import(pathToFileURL(file).href);
    const name = process.env.FAAS_HANDLER || "handler";
    handler = name === "default"
      ? (typeof mod.default === "function" ? mod.default : undefined)
      : mod[name] || (mod.default && mod.default[name]);
    if (typeof handler !== "function") {
      throw new TypeError("the file exports no function " + name + ": name the entry point with faas deploy --handler NAME");
    }
  } catch (e) {
    console.error((e && e.stack) || String(e));
    endLogs();
    send({ ready: false, error: "init: " + describe(e) });
    return 1;
  }
  endLogs();
  send({ ready: true, init_ms: Number((process.hrtime.bigint() - t0) / 1000000n) });
  const env = process.env;
  const home = process.cwd();
  const path = require("path");
  for (;;) {
    const req = readFrame();
    if (req === null) return 0;
    env.FAAS_JOB_ID = req.job_id || "";
    // Each job's own fresh working directory, under the worker's /tmp.
    const safe = (req.job_id || "").replace(/[^0-9A-Za-z]/g, "").slice(0, 64) || "job";
    const cwd = path.join(env.TMPDIR || "/tmp", "job-" + safe);
    fs.mkdirSync(cwd, { recursive: true, mode: 0o700 });
    process.chdir(cwd);
    const raw = req.payload || "";
    let event;
    if (raw.trim() === "") event = {};
    else {
      try { event = JSON.parse(raw); } catch { event = raw; }
    }
    const deadline = Number(req.deadline_ms || 0);
    const context = {
      functionName: env.FAAS_FUNCTION || "",
      functionVersion: env.FAAS_VERSION || "",
      jobId: req.job_id || "",
      awsRequestId: req.job_id || "",
      memoryLimitInMB: Number(env.FAAS_MEMORY_MB || 0),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let resp;
    try {
      // One-argument handlers (OpenWhisk's main(params)) get the event alone.
      let r = await (handler.length === 1 ? handler(event) : handler(event, context));
      if (Buffer.isBuffer(r)) r = r.toString("utf8");
      else if (typeof r !== "string") r = JSON.stringify(r === undefined ? null : r);
      resp = { ok: true, result: r };
    } catch (e) {
      console.error((e && e.stack) || String(e));
      resp = { ok: false, error: describe(e) };
    }
    process.chdir(home);
    fs.rmSync(cwd, { recursive: true, force: true });
    endLogs();
    send(resp);
  }
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
