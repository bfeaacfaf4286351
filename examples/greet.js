// A Node handler: export handler(event, context); it may be async.
exports.handler = async (event, context) => {
  console.log(`greeting ${event.name || "world"} from job ${context.jobId}`);
  return { message: `Hello, ${event.name || "world"}!`, runtime: "node" };
};
