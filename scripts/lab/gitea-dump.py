#!/usr/bin/env python3
# The Gitea stand-in's `gitea dump` (scripts/lab/standins.ts): the zip layout
# the real command writes (app.ini, data/, repos/, gitea-db.sql), so the
# backup's gitea item and the recovery's unpack run against it. Like the real
# one it builds the zip in --tempdir first, so a temp dir its user cannot
# write fails the dump as it would on the real cluster.
import argparse
import os
import shutil
import sys
import tempfile
import zipfile

args = sys.argv[1:]
if not args or args[0] != "dump":
    sys.exit(f"gitea stand-in: only `gitea dump` is stood in for, not {' '.join(args)!r}")
p = argparse.ArgumentParser(prog="gitea dump")
p.add_argument("-c", "--config", default="/data/gitea/conf/app.ini")
p.add_argument("--type", default="zip")
p.add_argument("--skip-log", action="store_true")
p.add_argument("--tempdir", default=tempfile.gettempdir())
p.add_argument("--file", "-f", default="gitea-dump.zip")
o = p.parse_args(args[1:])
if o.type != "zip":
    sys.exit(f"gitea stand-in: --type {o.type} is not stood in for")

DATA, REPOS = "/data/gitea", "/data/git/repositories"
work = tempfile.mkdtemp(prefix="gitea-dump-", dir=o.tempdir)
try:
    out = os.path.join(work, "dump.zip")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if os.path.isfile(o.config):
            z.write(o.config, "app.ini")
        z.writestr("gitea-db.sql", "-- the Gitea stand-in has no tables of its own: its database is the giteadb dump\n")
        for prefix, root in (("data", DATA), ("repos", REPOS)):
            for d, _, files in os.walk(root):
                for f in files:
                    full = os.path.join(d, f)
                    if full == o.config:
                        continue
                    z.write(full, os.path.join(prefix, os.path.relpath(full, root)))
    if o.file == "-":
        with open(out, "rb") as f:
            shutil.copyfileobj(f, sys.stdout.buffer)
    else:
        shutil.move(out, o.file)
finally:
    shutil.rmtree(work, ignore_errors=True)
