# mlagent sandbox exec server: runs inside the container, one per client connection, started with one
# `docker exec`. Reads JSON requests (one per line) on stdin, answers one JSON line per request on stdout.
# Each command runs in its own session/process group; on timeout the group gets TERM, then KILL after 2 s;
# when a command ends, whatever it left running in its group is killed. Requests run concurrently.
import base64, json, os, signal, subprocess, sys, threading, traceback

write_lock = threading.Lock()
running = {}  # request id -> Popen
OOM_FILES = ('/sys/fs/cgroup/memory.events', '/sys/fs/cgroup/memory/memory.oom_control')


def oom_kills():
    for path in OOM_FILES:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith('oom_kill '):
                        return int(line.split()[1])
        except OSError:
            pass
    return None


def reply(msg):
    data = (json.dumps(msg) + '\n').encode()
    with write_lock:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def read_tail(stream, limit, sink):
    buf, dropped = bytearray(), 0
    for chunk in iter(lambda: stream.read1(65536), b''):
        buf += chunk
        if len(buf) > limit:
            dropped += len(buf) - limit
            del buf[: len(buf) - limit]
    sink.extend([bytes(buf), dropped])


def kill_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(req):
    rid = req['id']
    env = dict(os.environ)
    env.update(req.get('env') or {})
    if not os.path.isdir(req['cwd']):
        return reply({'id': rid, 'error': 'working directory %s does not exist' % req['cwd']})
    oom_before = oom_kills()
    try:
        p = subprocess.Popen(req['cmd'], cwd=req['cwd'], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        code = 127 if isinstance(e, FileNotFoundError) else 126
        msg = 'mlagent: cannot run %s: %s\n' % (req['cmd'][0], e.strerror)
        return reply({'id': rid, 'code': code, 'out': '', 'err': base64.b64encode(msg.encode()).decode(), 'dropped': [0, 0],
                      'timed_out': False, 'oom': False})
    running[rid] = p
    out, err = [], []
    readers = [threading.Thread(target=read_tail, args=(p.stdout, req['max'], out), daemon=True),
               threading.Thread(target=read_tail, args=(p.stderr, req['max'], err), daemon=True)]
    for t in readers:
        t.start()
    timed_out = False
    try:
        p.wait(req['timeout'])
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(p.pid, signal.SIGTERM)
        try:
            p.wait(2)
        except subprocess.TimeoutExpired:
            pass
    kill_group(p.pid, signal.SIGKILL)  # leftovers (and a TERM-ignoring main process)
    p.wait()
    for t in readers:
        t.join()
    running.pop(rid, None)
    code = 124 if timed_out else (p.returncode if p.returncode >= 0 else 128 - p.returncode)
    oom_after = oom_kills()
    oom = None if oom_after is None else (code == 137 and oom_after > (oom_before or 0))
    reply({'id': rid, 'code': code, 'out': base64.b64encode(out[0]).decode(), 'err': base64.b64encode(err[0]).decode(),
           'dropped': [out[1], err[1]], 'timed_out': timed_out, 'oom': oom})


def serve(req):
    try:
        run(req)
    except Exception:
        reply({'id': req.get('id'), 'error': 'exec server failed: ' + traceback.format_exc()})


def main():
    reply({'ready': True})
    for line in sys.stdin.buffer:
        threading.Thread(target=serve, args=(json.loads(line),), daemon=True).start()
    # The client went away: nothing may outlive it.
    for p in list(running.values()):
        kill_group(p.pid, signal.SIGKILL)


main()
