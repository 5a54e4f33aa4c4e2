"""Unit tests of the collection's Python helpers: argument handling and the result file.

xb_pull (manager side) and backup_local (DB host) are scripts without a .py suffix; they are loaded
by path. ssh is replaced by a small script (xb_pull --ssh) so a pull runs end to end offline.
Run: python3 -m unittest discover -s test/python (test/unit/playbook-helpers.test.ts does).
"""
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ROLES = os.path.join(ROOT, "playbooks", "collections", "ansible_collections", "xb_mgr", "backup", "roles")
XB_PULL = os.path.join(ROLES, "backup", "files", "xb_pull")
BACKUP_LOCAL = os.path.join(ROLES, "helper", "files", "backup_local")


def load(name, path):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def run(*argv):
    """The helper as a process, with this interpreter (never a path written in the script)."""
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=60)


class TempDir(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def fake_ssh(self, payload, log="tool log line\n", rc=0):
        """A stand-in for ssh: writes payload to stdout, log to stderr, exits rc."""
        path = os.path.join(self.dir, "fake_ssh")
        with open(path, "w") as f:
            f.write("#!%s\nimport sys\nsys.stdout.buffer.write(%r)\nsys.stderr.write(%r)\nsys.exit(%d)\n"
                    % (sys.executable, payload, log, rc))
        os.chmod(path, 0o755)
        return path


class XbPullArguments(TempDir):
    def test_refused_command_lines(self):
        out = os.path.join(self.dir, "out")
        cases = [
            ("no -- before the remote command", ["--out-dir", out, "--file", "s", "--host", "h"], 2, "missing --"),
            ("no --out-dir", ["--file", "s", "--host", "h", "--", "x"], 2, "--out-dir"),
            ("no --file", ["--out-dir", out, "--host", "h", "--", "x"], 2, "--file"),
            ("no --host", ["--out-dir", out, "--file", "s", "--", "x"], 2, "--host"),
            ("--max-bytes not a number", ["--out-dir", out, "--file", "s", "--host", "h", "--max-bytes", "1e3",
                                          "--", "x"], 2, "--max-bytes"),
            ("an unknown option", ["--out-dir", out, "--file", "s", "--host", "h", "--bogus", "--", "x"], 2,
             "--bogus"),
        ]
        for name, argv, code, words in cases:
            with self.subTest(name):
                r = run(XB_PULL, *argv)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(words, r.stderr)
                self.assertFalse(os.path.exists(os.path.join(out, "result.json")))

    def test_receive_refuses_without_a_forced_command(self):
        r = subprocess.run([sys.executable, XB_PULL, "--receive", "--host", "db1"], capture_output=True,
                           text=True, timeout=60, env={"PATH": os.environ.get("PATH", "")})
        self.assertEqual(r.returncode, 2, r.stderr)


class XbPullResult(TempDir):
    def pull(self, ssh, *extra):
        out = os.path.join(self.dir, "out")
        r = run(XB_PULL, "--out-dir", out, "--file", "backup.xbstream.zst", "--host", "db1", "--ssh", ssh,
                *extra, "--", "/usr/local/bin/backup_local", "backup", "it's; $(quoted)")
        return out, r

    def test_a_good_pull_writes_the_stream_and_one_whole_result(self):
        payload = b"stream bytes " * 1000
        out, r = self.pull(self.fake_ssh(payload))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "result.json")) as f:
            result = json.load(f)
        self.assertEqual(result, {
            "mode": "pull", "rc": 0, "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest(),
            "file": os.path.join(out, "backup.xbstream.zst"),
        })
        self.assertEqual(json.loads(r.stdout), result, "the result is printed too")
        self.assertEqual(sorted(os.listdir(out)), ["backup.xbstream.zst", "result.json", "tool.log"],
                         "no .part, no temporary result left")
        with open(os.path.join(out, "tool.log")) as f:
            self.assertEqual(f.read(), "tool log line\n")

    def test_a_failed_ssh_keeps_the_part_and_says_so_in_the_result(self):
        out, r = self.pull(self.fake_ssh(b"half", log="mariabackup: error\n", rc=7))
        self.assertEqual(r.returncode, 7)
        with open(os.path.join(out, "result.json")) as f:
            result = json.load(f)
        self.assertEqual((result["rc"], result["bytes"], result["file"]),
                         (7, 4, os.path.join(out, "backup.xbstream.zst.part")))
        self.assertIn("mariabackup: error", r.stderr)

    def test_over_the_cap_stops_with_exit_4_and_no_result(self):
        out, r = self.pull(self.fake_ssh(b"x" * 5000), "--max-bytes", "1000")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("over max_stream_bytes (1000 bytes)", r.stderr)
        self.assertEqual(sorted(os.listdir(out)), ["tool.log"])

    def test_the_cap_holds_to_the_byte(self):
        # The kernel (RLIMIT_FSIZE on ssh) enforces the cap: a stream of exactly the cap passes,
        # one byte more is refused, whatever the writer does about the failed write.
        for name, size, code in [("exactly the cap", 1000, 0), ("one byte over", 1001, 4),
                                 ("far over", 10 << 20, 4)]:
            with self.subTest(name):
                out, r = self.pull(self.fake_ssh(b"y" * size), "--max-bytes", "1000")
                self.assertEqual(r.returncode, code, r.stderr)
                if code == 0:
                    self.assertEqual(json.loads(r.stdout)["bytes"], size)
                else:
                    self.assertEqual(sorted(os.listdir(out)), ["tool.log"])
                for n in os.listdir(out):
                    os.unlink(os.path.join(out, n))

    def test_the_hash_follows_a_stream_written_slowly_in_pieces(self):
        # ssh writes the file and xb_pull hashes it while it grows: pieces that arrive after the
        # hash caught up with the file, and the last ones after ssh ended, all count.
        path = os.path.join(self.dir, "slow_ssh")
        with open(path, "w") as f:
            f.write("#!%s\nimport os, sys, time\n"
                    "for i in range(40):\n"
                    "    os.write(1, bytes([i]) * (300000 + i))\n"
                    "    time.sleep(0.06 if i in (0, 9, 20) else 0.01)\n" % sys.executable)
        os.chmod(path, 0o755)
        out, r = self.pull(path, "--max-bytes", str(1 << 30))
        self.assertEqual(r.returncode, 0, r.stderr)
        payload = b"".join(bytes([i]) * (300000 + i) for i in range(40))
        result = json.loads(r.stdout)
        self.assertEqual((result["bytes"], result["sha256"]), (len(payload), hashlib.sha256(payload).hexdigest()))
        with open(os.path.join(out, "backup.xbstream.zst"), "rb") as f:
            self.assertEqual(f.read(), payload)

    def test_write_result_is_atomic(self):
        xb_pull = load("xb_pull", XB_PULL)
        xb_pull.write_result(self.dir, {"rc": 0, "bytes": 1})
        with mock.patch.object(xb_pull.json, "dump", side_effect=OSError(28, "No space left on device")):
            with self.assertRaises(OSError):
                xb_pull.write_result(self.dir, {"rc": 0, "bytes": 2})
        self.assertEqual(os.listdir(self.dir), ["result.json"], "the temporary file is gone")
        with open(os.path.join(self.dir, "result.json")) as f:
            self.assertEqual(json.load(f), {"rc": 0, "bytes": 1}, "the old result is whole")


class BackupLocalArguments(TempDir):
    def test_refused_command_lines(self):
        cred = os.path.join(self.dir, "cred.cnf")
        cases = [
            ("no subcommand", []),
            ("an unknown subcommand", ["restore"]),
            ("backup without --credentials", ["backup", "--", "--backup"]),
            ("an unknown compressor", ["backup", "--credentials", cred, "--compress", "lz4"]),
            ("an unknown tool", ["backup", "--credentials", cred, "--tool", "innobackupex"]),
            ("an unknown ionice class", ["backup", "--credentials", cred, "--ionice", "rt"]),
            ("a level that is no number", ["backup", "--credentials", cred, "--level", "fast"]),
            ("unpack without --dest", ["unpack", "--file", "f"]),
            ("unpack with an unknown compressor", ["unpack", "--file", "f", "--dest", "d", "--compress", "xz"]),
        ]
        for name, argv in cases:
            with self.subTest(name):
                r = run(BACKUP_LOCAL, *argv)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("usage: backup_local", r.stderr)

    def test_a_helper_that_is_not_the_expected_one_refuses_to_run(self):
        r = run(BACKUP_LOCAL, "backup", "--credentials", os.path.join(self.dir, "none.cnf"),
                "--expect-sha256", "0" * 64, "--", "--backup")
        self.assertEqual(r.returncode, 90, r.stderr)
        self.assertEqual(r.stdout, "", "nothing streamed")


class Interpreter(unittest.TestCase):
    def test_no_interpreter_path_is_hard_coded(self):
        for path in (XB_PULL, BACKUP_LOCAL):
            with self.subTest(os.path.basename(path)), open(path) as f:
                self.assertEqual(f.readline(), "#!/usr/bin/env python3\n")
                self.assertTrue(os.access(path, os.X_OK))


if __name__ == "__main__":
    unittest.main()
