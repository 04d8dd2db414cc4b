"""deploy/ checked with the tools that run it: the systemd unit with `systemd-analyze verify`,
the alert rules with `promtool check rules` and their unit tests with `promtool test rules`,
the Kubernetes and compose files parsed, and every PromQL expression of the Grafana dashboard
and of the alert rules run by a real Prometheus that scrapes a real riffled under load: each
must be valid, and each over series a single node has must return data.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

from harness import MetricsRiffled, RiffledProcess, free_port, wait_for

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(REPO, "deploy")
# Series only a cluster has: their expressions are checked for validity, not for data.
CLUSTER_ONLY = re.compile(r"riffle_(cluster|replication)_")
# Consumer groups are made by trigger runners through the native API, not by boto3: this test
# checks only that the expressions over their lag series are valid.
NEEDS_A_GROUP = re.compile(r"riffle_consumer_group_")


def dashboard_expressions():
    with open(os.path.join(DEPLOY, "grafana", "dashboards", "riffle.json")) as f:
        dashboard = json.load(f)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    # Grafana's own variables, as Grafana would fill them in.
    return [e.replace("$__rate_interval", "30s").replace("$stream", ".*") for e in exprs]


def rule_expressions():
    with open(os.path.join(DEPLOY, "prometheus", "riffle-alerts.yml")) as f:
        rules = yaml.safe_load(f)
    return {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}


class DeployFilesTest(unittest.TestCase):
    def test_the_systemd_unit_verifies(self):
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze is not installed")
        with open(os.path.join(DEPLOY, "systemd", "riffled.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/local/bin/riffled ", unit)
        # The installed paths and user, as on a host: this one's binary, and root (the unit's
        # `riffle` user need not exist on the test machine).
        riffled = RiffledProcess().binary
        unit = unit.replace("/usr/local/bin/riffled", riffled)
        unit = re.sub(r"^(User|Group)=riffle$", r"\1=root", unit, flags=re.M)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "riffled.service")
            with open(path, "w") as f:
                f.write(unit)
            p = subprocess.run([analyze, "verify", path], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("riffled.service", p.stderr, p.stderr)

    def test_the_alert_rules_check_and_pass_their_unit_tests(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian package prometheus) is not installed")
        rules_dir = os.path.join(DEPLOY, "prometheus")
        for args in (["check", "rules", "riffle-alerts.yml"],
                     ["test", "rules", "riffle-alerts_test.yml"]):
            p = subprocess.run([promtool, *args], cwd=rules_dir, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, f"promtool {' '.join(args)}:\n{p.stdout}{p.stderr}")

    def test_kubernetes_and_compose_files_are_well_formed(self):
        with open(os.path.join(DEPLOY, "kubernetes", "riffled.yaml")) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        kinds = {d["kind"] for d in docs}
        self.assertEqual(kinds, {"Service", "StatefulSet"})
        sts = next(d for d in docs if d["kind"] == "StatefulSet")
        container = sts["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(container["volumeMounts"][0]["mountPath"], "/var/lib/riffle")
        self.assertTrue(sts["spec"]["volumeClaimTemplates"])
        with open(os.path.join(DEPLOY, "docker", "compose.yml")) as f:
            compose = yaml.safe_load(f)
        self.assertEqual(set(compose["services"]), {"riffled", "prometheus", "grafana"})
        compose_cli = shutil.which("docker-compose")
        if compose_cli:
            p = subprocess.run([compose_cli, "-f", "compose.yml", "config", "-q"],
                               cwd=os.path.join(DEPLOY, "docker"), capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class DashboardAgainstPrometheusTest(unittest.TestCase):
    """A real Prometheus scrapes a real riffled every second while the test writes and reads;
    then every expression of the dashboard and the rules is queried."""

    def setUp(self):
        prometheus = shutil.which("prometheus")
        self.assertIsNotNone(prometheus, "prometheus (Debian package) is not installed")
        self.riffled = MetricsRiffled()
        self.metrics_port = self.riffled.metrics_port
        self.riffled.start()
        self.addCleanup(self.riffled.cleanup)
        self.tmp = tempfile.mkdtemp(prefix="riffle-prometheus-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        config = os.path.join(self.tmp, "prometheus.yml")
        with open(config, "w") as f:
            yaml.safe_dump({
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [{"job_name": "riffle", "static_configs": [
                    {"targets": [f"127.0.0.1:{self.metrics_port}"]}]}],
            }, f)
        self.log = open(os.path.join(self.tmp, "prometheus.log"), "w")
        self.addCleanup(self.log.close)
        # The port was free a moment ago; a test running beside this one may take it first,
        # and then Prometheus exits (or another server answers): try another port.
        for attempt in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [prometheus, f"--config.file={config}", f"--storage.tsdb.path={self.tmp}/data",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=self.log, stderr=subprocess.STDOUT)
            try:
                wait_for(lambda: self.proc.poll() is not None
                         or self.query("up").get("status") == "success", 30, interval=0.2,
                         what="Prometheus to answer")
            except AssertionError:
                pass
            if self.proc.poll() is None and self.query("up").get("status") == "success":
                break
            self.stop_prometheus()
        else:
            self.fail("Prometheus did not start; its log:\n"
                      + open(os.path.join(self.tmp, "prometheus.log")).read()[-3000:])
        self.addCleanup(self.stop_prometheus)

    def stop_prometheus(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def query(self, expr):
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expr}))
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            try:
                return json.load(e)
            except ValueError:  # not Prometheus answering
                return {"status": "not-prometheus", "error": f"HTTP {e.code}"}
        except urllib.error.URLError as e:  # not listening yet
            return {"status": "unreachable", "error": str(e)}

    def test_every_expression_is_valid_and_those_of_a_single_node_return_data(self):
        client = self.riffled.client()
        client.create_stream(StreamName="dash", ShardCount=1)
        wait_for(lambda: client.describe_stream_summary(StreamName="dash")[
            "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", 10)
        it = client.get_shard_iterator(StreamName="dash", ShardId="shardId-000000000000",
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        # A registered consumer that reads once, for the consumer lag series.
        arn = client.describe_stream_summary(StreamName="dash")["StreamDescriptionSummary"][
            "StreamARN"]
        consumer = client.register_stream_consumer(StreamARN=arn, ConsumerName="dash-consumer")[
            "Consumer"]["ConsumerARN"]
        wait_for(lambda: client.describe_stream_consumer(ConsumerARN=consumer)[
            "ConsumerDescription"]["ConsumerStatus"] == "ACTIVE", 10)
        events = client.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                           StartingPosition={"Type": "LATEST"})["EventStream"]
        next(iter(events))
        events.close()
        deadline = time.monotonic() + 6  # several scrapes, so rate() has two samples
        while time.monotonic() < deadline:
            client.put_record(StreamName="dash", Data=b"x" * 100, PartitionKey="k")
            it = client.get_records(ShardIterator=it)["NextShardIterator"]
            time.sleep(0.2)
        exprs = dashboard_expressions() + list(rule_expressions().values())
        self.assertGreater(len(exprs), 10)
        for expr in exprs:
            if "up{" in expr:
                continue  # an alert on the absence of data
            out = self.query(expr)
            self.assertEqual(out.get("status"), "success", f"{expr}\n{out}")
            if CLUSTER_ONLY.search(expr) or NEEDS_A_GROUP.search(expr):
                continue
            # Alert expressions compare against a threshold a healthy node does not cross:
            # their left-hand side must have data.
            probe = re.split(r"\s[<>]=?\s", expr)[0] if expr in rule_expressions().values() \
                else expr
            data = wait_for(lambda: self.query(probe)["data"]["result"], 10, interval=0.5,
                            what=f"data for {probe}")
            self.assertTrue(data, probe)
        self.assertEqual(self.query('up{job="riffle"}')["data"]["result"][0]["value"][1], "1")


if __name__ == "__main__":
    unittest.main()
