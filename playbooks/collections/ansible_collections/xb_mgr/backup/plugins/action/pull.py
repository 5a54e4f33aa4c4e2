# Run xb_pull (the pull of a backup stream) from the controller's worker process itself.
#
# Why an action plugin and not ansible.builtin.command delegated to localhost: the command module
# costs a module round trip on the manager (AnsiballZ payload, a second Python interpreter that
# imports Ansible's module_utils, its JSON back) before xb_pull even starts, about 0.3-0.8 s of a
# transfer that should cost the raw `ssh | zstd > file` plus 1 s (issue 20). Here the worker starts
# xb_pull directly, argv as given (never a shell), and returns what the command module would.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("argv",))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        argv = self._task.args.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            result.update(failed=True, msg="argv must be a non-empty list of strings")
            return result
        if self._play_context.check_mode:
            result.update(skipped=True, msg="check mode: nothing is pulled")
            return result
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, check=False)
        except OSError as e:
            result.update(failed=True, rc=2, cmd=argv, msg="cannot run %s: %s" % (argv[0], e))
            return result
        stdout = to_text(p.stdout, errors="surrogate_or_replace")
        stderr = to_text(p.stderr, errors="surrogate_or_replace")
        result.update(
            changed=True,
            cmd=argv,
            rc=p.returncode,
            stdout=stdout.rstrip("\n"),
            stderr=stderr.rstrip("\n"),
            stdout_lines=stdout.splitlines(),
            stderr_lines=stderr.splitlines(),
        )
        if p.returncode != 0:
            result.update(failed=True, msg="non-zero return code")
        return result
