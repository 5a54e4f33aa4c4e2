#!/usr/bin/python
# The documentation of the xb_mgr.backup.pull action (plugins/action/pull.py does the work on the
# controller; this file is never run).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pull
short_description: Pull a backup stream into the manager's catalog with xb_pull
description:
  - Runs xb_pull (the backup role's files/xb_pull) on the controller, directly from Ansible's
    worker process (no module process in between), with the argument vector given.
  - Returns what ansible.builtin.command returns (rc, stdout, stderr, cmd); fails on a non-zero rc.
  - In check mode it runs nothing.
version_added: "1.1.0"
options:
  argv:
    description: The command and its arguments, each one a string (never a shell string).
    type: list
    elements: str
    required: true
author:
  - xb-mgr authors
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Pull the backup stream
  xb_mgr.backup.pull:
    argv: [/usr/bin/python3, /path/to/xb_pull, --out-dir, /backup/db1/tmp/x, --file, s, --host, db1,
           --, /usr/local/xb-mgr/bin/backup_local, backup]
"""

RETURN = r"""
rc:
  description: xb_pull's exit code.
  type: int
  returned: always
stdout:
  description: xb_pull's result line (JSON).
  type: str
  returned: always
stderr:
  description: xb_pull's errors and, on failure, the end of the tool's log.
  type: str
  returned: always
"""
