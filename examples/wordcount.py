# A Python script: the payload arrives on stdin, stdout is the result,
# stderr goes to the job's logs.
import json
import sys

text = sys.stdin.read()
print(f"counting {len(text)} characters", file=sys.stderr)
print(json.dumps({"words": len(text.split()), "lines": text.count("\n")}))
