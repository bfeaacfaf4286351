// faas handler bootstrap: imports the function's file, calls
// handler(event, context) once, and writes a JSON envelope to fd 3.
// What the handler logs goes to the job's logs (stdout and stderr).
const fs = require("fs");
const { pathToFileURL } = require("url");

function send(obj) {
  fs.writeSync(3, JSON.stringify(obj) + "\n");
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
    handler = mod.handler || (mod.default && mod.default.handler) || (typeof mod.default === "function" ? mod.default : undefined);
    if (typeof handler !== "function") throw new TypeError("the file exports no handler function");
  } catch (e) {
    console.error((e && e.stack) || String(e));
    send({ ok: false, error: "init: " + describe(e) });
    return 1;
  }
  const initMS = Number((process.hrtime.bigint() - t0) / 1000000n);

  const raw = fs.readFileSync(0);
  let event;
  if (raw.toString("utf8").trim() === "") event = {};
  else {
    try { event = JSON.parse(raw.toString("utf8")); } catch { event = raw.toString("utf8"); }
  }
  const env = process.env;
  const deadline = Number(env.FAAS_DEADLINE_MS || 0);
  const context = {
    functionName: env.FAAS_FUNCTION || "",
    functionVersion: env.FAAS_VERSION || "",
    jobId: env.FAAS_JOB_ID || "",
    awsRequestId: env.FAAS_JOB_ID || "",
    memoryLimitInMB: Number(env.FAAS_MEMORY_MB || 0),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    let r = await handler(event, context);
    if (Buffer.isBuffer(r)) r = r.toString("utf8");
    else if (typeof r !== "string") r = JSON.stringify(r === undefined ? null : r);
    send({ ok: true, result: r, init_ms: initMS });
    return 0;
  } catch (e) {
    console.error((e && e.stack) || String(e));
    send({ ok: false, error: describe(e), init_ms: initMS });
    return 1;
  }
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 1; });
