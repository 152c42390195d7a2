"""Run inside the agent's sandbox: is any hidden task file's content reachable anywhere on its filesystem?

argv[1]: JSON {size: [sha256, ...]} of the hidden files. Prints JSON: the paths whose content matches.
Only files of a matching size are hashed, so the walk over the whole root stays quick.
"""
import hashlib
import json
import os
import sys

wanted = {int(size): set(hashes) for size, hashes in json.loads(sys.argv[1]).items()}
found = []
for root, dirs, files in os.walk("/"):
    if root == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    for name in files:
        path = os.path.join(root, name)
        try:
            if os.path.islink(path) or os.path.getsize(path) not in wanted:
                continue
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            continue  # unreadable to the agent's user is unreachable
        if digest in wanted[os.path.getsize(path)]:
            found.append(path)
print(json.dumps(found))
