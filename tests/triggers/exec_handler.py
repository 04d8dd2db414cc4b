"""A handler for `riffle trigger --exec`: the event on stdin, the answer on stdout.

    exec_handler.py LOG record [SLEEP_S]   appends one line per batch: a JSON list of
                                           [shard, data] pairs, then sleeps SLEEP_S
    exec_handler.py LOG fail-on DATA       like record, but exits 1 for a batch holding DATA
    exec_handler.py LOG fail-once DATA     like record, but the first batch holding DATA
                                           answers batchItemFailures naming that record
    exec_handler.py LOG not-json           prints text that is not JSON
    exec_handler.py LOG hang               never answers
    exec_handler.py LOG overlap SLEEP_S    like record, sleeping SLEEP_S, and appends to LOG.overlap
                                           how many calls (this one included) were running
                                           when this one started
"""

import base64
import json
import os
import sys
import time

log, mode = sys.argv[1], sys.argv[2]
event = json.load(sys.stdin)
records = [(r["eventID"].split(":")[0], base64.b64decode(r["kinesis"]["data"]).decode(),
            r["kinesis"]["sequenceNumber"]) for r in event["Records"]]
with open(log, "a") as f:
    f.write(json.dumps([[shard, data] for shard, data, _ in records]) + "\n")

if mode == "record" and len(sys.argv) > 3:
    time.sleep(float(sys.argv[3]))
elif mode == "fail-on" and any(data == sys.argv[3] for _, data, _ in records):
    sys.exit(1)
elif mode == "fail-once":
    failed_once = log + ".failed"
    bad = [seq for _, data, seq in records if data == sys.argv[3]]
    if bad and not os.path.exists(failed_once):
        open(failed_once, "w").close()
        print(json.dumps({"batchItemFailures": [{"itemIdentifier": bad[0]}]}))
elif mode == "not-json":
    print("this is not json at all")
elif mode == "overlap":
    running = log + ".running"
    os.makedirs(running, exist_ok=True)
    mine = os.path.join(running, str(os.getpid()))
    open(mine, "w").close()
    with open(log + ".overlap", "a") as f:
        f.write(f"{len(os.listdir(running))}\n")
    time.sleep(float(sys.argv[3]))
    os.remove(mine)
elif mode == "hang":
    time.sleep(600)
