// A faas function: faas calls handler(event, context) once per invocation.
//
// event is the payload parsed as JSON (the raw string when it is not JSON);
// the value returned (or resolved) is the result, JSON-encoded unless it is
// a string. console.log goes to the job's logs (`faas logs NAME`).
exports.handler = async (event, context) => {
  const name = event && typeof event === "object" && event.name ? event.name : "world";
  console.log("greeting", name);
  return { message: `Hello, ${name}!` };
};
