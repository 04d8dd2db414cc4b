"""A full disk under the real riffled: on a small ext4 filesystem on a loop device, filled with
a ballast file, writes fail with a clear error, records written before stay readable and
intact, and writes go on by themselves once the ballast is removed. Needs root (mount)."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import RiffledProcess


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("mkfs.ext4") and
                     os.path.exists("/dev/loop-control"),
                     "needs root and loop devices to mount a small filesystem")
class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="riffle-diskfull-")
        image = os.path.join(self.work, "fs.img")
        self.mount = os.path.join(self.work, "mnt")
        os.makedirs(self.mount)
        subprocess.run(["truncate", "-s", "128M", image], check=True)
        subprocess.run(["mkfs.ext4", "-q", image], check=True)
        subprocess.run(["mount", "-o", "loop", image, self.mount], check=True)
        self.addCleanup(shutil.rmtree, self.work, True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.mount])
        self.riffled = RiffledProcess(["--shard-quotas=off"],
                                      data_dir=os.path.join(self.mount, "data"))
        os.makedirs(self.riffled.data_dir)
        self.riffled.start()
        self.addCleanup(self.riffled.cleanup)
        self.kinesis = self.riffled.client(retries=False)

    def put(self, tag):
        """100 records of 1 KiB of random bytes; returns (acknowledged data, error messages)."""
        records = [{"Data": tag.encode() + os.urandom(1000), "PartitionKey": str(i)}
                   for i in range(100)]
        out = self.kinesis.put_records(StreamName="s", Records=records)
        acked = [r["Data"] for r, e in zip(records, out["Records"]) if "SequenceNumber" in e]
        errors = {e["ErrorMessage"] for e in out["Records"] if "ErrorCode" in e}
        return acked, errors

    def read_all(self):
        it = self.kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        data = []
        while True:
            page = self.kinesis.get_records(ShardIterator=it, Limit=10000)
            data += [r["Data"] for r in page["Records"]]
            it = page["NextShardIterator"]
            if not page["Records"]:
                return data

    def test_writes_stop_clearly_and_resume_once_space_is_freed(self):
        self.kinesis.create_stream(StreamName="s", ShardCount=1)
        self.kinesis.get_waiter("stream_exists").wait(StreamName="s", WaiterConfig={"Delay": 0.2})
        acked, errors = self.put("before")
        self.assertEqual(errors, set())
        stat = os.statvfs(self.mount)
        ballast = os.path.join(self.mount, "ballast")
        subprocess.run(["fallocate", "-l", str(stat.f_bavail * stat.f_frsize - 8 * 2**20),
                        ballast], check=True)
        refused = set()
        for n in range(200):
            more, errors = self.put(f"fill{n}")
            acked += more
            refused |= errors
            if errors and not more:
                break
        self.assertTrue(any("disk of the data directory is full" in e for e in refused), refused)
        # A whole call refused for it is a server error, and the log says so with the reason.
        with self.assertRaises(self.kinesis.exceptions.ClientError) as refused_put:
            self.kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")
        self.assertGreaterEqual(refused_put.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                                500)
        self.assertRegex(self.riffled.log_tail(),
                         r"kinesis PutRecord from 127\.0\.0\.1:\d+ \(key -\) failed after "
                         r"[0-9.]+ ms: \w+: The disk of the data directory is full")
        # Reads go on, and every acknowledged record is there, once, in order.
        self.assertEqual(self.read_all(), acked)
        self.assertTrue(self.riffled.alive())
        os.unlink(ballast)
        resumed = []
        for _ in range(50):
            resumed, errors = self.put("after")
            if resumed:
                break
            time.sleep(0.1)
        self.assertEqual(len(resumed), 100, "writes did not resume after space was freed: "
                         f"{errors}\n{self.riffled.log_tail()}")
        self.assertEqual(self.read_all(), acked + resumed)
        self.assertEqual(self.riffled.stop(), 0)


if __name__ == "__main__":
    unittest.main()
