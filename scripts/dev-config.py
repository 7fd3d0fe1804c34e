"""Write the instance configuration with a random SECRET_KEY, once; never overwrite it.

Usage: python scripts/dev-config.py [instance/config.py]
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

TEMPLATE = '''\
"""Instance settings for this machine, written once by `make` (scripts/dev-config.py).

Not in git. Flask reads this file after the defaults in tracker/config.py, so its values win.
"""

SECRET_KEY = "{secret_key}"  # noqa: S105  (random, made for this machine alone)
'''


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "instance/config.py")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: if the file appeared meanwhile, keep it; the key in it may already sign sessions.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"{path} exists; left as it is")
        return 0
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(TEMPLATE.format(secret_key=secrets.token_hex(32)))
    print(f"wrote {path} with a new random SECRET_KEY")
    return 0


if __name__ == "__main__":
    sys.exit(main())
