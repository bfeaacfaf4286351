"""A faas function: faas calls handler(event, context) once per invocation.

event is the payload parsed as JSON (the raw string when it is not JSON);
the return value is the result, JSON-encoded unless it is a string.
print() goes to the job's logs (`faas logs NAME`).
"""


def handler(event, context):
    name = "world"
    if isinstance(event, dict):
        name = event.get("name", name)
    print("greeting", name)
    return {"message": "Hello, %s!" % name}
