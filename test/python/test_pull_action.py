"""The collection's xb_mgr.backup.pull action (plugins/action/pull.py), run by a real ansible-playbook
on localhost: it starts the argv it is given (no shell), returns rc, stdout and stderr as the
command module does, fails on a non-zero rc, and runs nothing in check mode.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
COLLECTIONS = os.path.join(ROOT, "playbooks", "collections")

PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: Pull
      xb_mgr.backup.pull:
        argv: {argv}
"""


@unittest.skipUnless(shutil.which("ansible-playbook"), "ansible-playbook is not on PATH")
class PullAction(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="xb-pull-action-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def play(self, argv, *extra):
        pb = os.path.join(self.dir, "pb.yml")
        with open(pb, "w") as f:
            f.write(PLAY.format(argv=json.dumps(argv)))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        p = subprocess.run(["ansible-playbook", pb, *extra], env=env, capture_output=True, text=True, check=False)
        out = json.loads(p.stdout)
        return p.returncode, out["plays"][0]["tasks"][0]["hosts"]["localhost"]

    def test_runs_argv_without_a_shell(self):
        marker = os.path.join(self.dir, "m")
        rc, r = self.play(["/bin/sh", "-c", 'echo out; echo err >&2; echo "$1" > ' + marker, "sh", "a b;$(x)"])
        self.assertEqual(rc, 0)
        self.assertEqual((r["rc"], r["stdout"], r["stderr"], r["changed"]), (0, "out", "err", True))
        with open(marker) as f:
            self.assertEqual(f.read(), "a b;$(x)\n")  # one argument, as given

    def test_non_zero_fails(self):
        rc, r = self.play(["/bin/sh", "-c", "echo why >&2; exit 3"])
        self.assertEqual(rc, 2)
        self.assertTrue(r["failed"])
        self.assertEqual((r["rc"], r["stderr"], r["msg"]), (3, "why", "non-zero return code"))

    def test_missing_program_fails(self):
        rc, r = self.play([os.path.join(self.dir, "nonexistent")])
        self.assertEqual(rc, 2)
        self.assertIn("cannot run", r["msg"])

    def test_bad_argv_fails(self):
        rc, r = self.play([])
        self.assertEqual(rc, 2)
        self.assertIn("argv must be", r["msg"])

    def test_check_mode_runs_nothing(self):
        marker = os.path.join(self.dir, "m")
        rc, r = self.play(["/usr/bin/touch", marker], "--check")
        self.assertEqual(rc, 0)
        self.assertTrue(r.get("skipped"))
        self.assertFalse(os.path.exists(marker))


if __name__ == "__main__":
    unittest.main()
