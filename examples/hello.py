# A Python handler: faas calls handler(event, context) with the payload
# parsed as JSON; the return value is the result.
def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else event
    print(f"greeting {name} from job {context.job_id}")
    return {"message": f"Hello, {name}!"}
