#!/usr/bin/env python3
# The stand-in's `ollama list`, which stacks/ai.yml's healthcheck runs (the real
# image has no curl): like the real CLI it asks the server (OLLAMA_HOST, else
# 127.0.0.1:11434) for /api/tags, prints the models, and exits 1 when the server
# does not answer.
import json, os, sys, urllib.request

if sys.argv[1:2] != ["list"]:
    print("stand-in ollama: only `ollama list` is stood in for", file=sys.stderr)
    sys.exit(1)
host = os.environ.get("OLLAMA_HOST") or "127.0.0.1:11434"
if host.startswith("0.0.0.0"):
    host = "127.0.0.1" + host[len("0.0.0.0"):]
try:
    with urllib.request.urlopen(f"http://{host}/api/tags", timeout=5) as r:
        models = json.load(r).get("models", [])
except Exception as err:
    print(f"Error: could not connect to ollama app, is it running? ({err})", file=sys.stderr)
    sys.exit(1)
print("NAME\tID\tSIZE\tMODIFIED")
for m in models:
    print(m.get("name", ""))
