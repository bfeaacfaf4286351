// Tests of handler.js that need no faas: node --test
const test = require("node:test");
const assert = require("node:assert");
const path = require("node:path");
const fs = require("node:fs");
const { handler } = require("./handler.js");

// The fields of the context faas passes, as a test sets them.
const context = {
  functionName: "test",
  functionVersion: "1",
  jobId: "test-job",
  memoryLimitInMB: 256,
  getRemainingTimeInMillis: () => 30000,
};

test("the sample event", async () => {
  const event = JSON.parse(fs.readFileSync(path.join(__dirname, "event.json"), "utf8"));
  assert.deepStrictEqual(await handler(event, context), { message: "Hello, Ada!" });
});

test("no name", async () => {
  assert.deepStrictEqual(await handler({}, context), { message: "Hello, world!" });
});
