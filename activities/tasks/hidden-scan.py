"""Run inside the agent's sandbox: can the agent read any task's hidden answers, or the source data they came from?

argv[1:]: one JSON object per task (validate.ts `hiddenFingerprints`):
  task         the task's name
  fileHashes   {size: [sha256, ...]} of the hidden files: a byte-identical copy is a finding
  publicHashes {size: [sha256, ...]} of the public files: the agent is meant to have them, they are not scanned
  answers      windows of consecutive hidden answer fields (the answers column in test order)
  rows         windows of consecutive public test-feature fields (a test row, or consecutive rows)
  records      test rows' feature fields plus their answer, matched in any order within a row's span
Prints JSON: [{task, path, kind, matched, of}], kind "file" (identical bytes) or "content" (matched of the
task's windows found in that file).

Content matching survives re-serialisation: every readable file is decompressed (gzip, bzip2, xz, zip and so
npz, nested a few levels) and read two ways. As text: tokens are numbers (sign dropped, 7 significant digits:
"3", "3.0" and float32's 3.0000001 agree) and lower-cased words, so CSV, JSON, ARFF, Python literals match.
As binary: the bytes are viewed as uint8, little-endian int32/int64/float32/float64 and big-endian float64
(R's XDR) at every alignment, which covers .npy/.npz, idx, raw arrays and pickled numpy buffers. A window
matches where its tokens appear in order at a fixed stride (1 = contiguous; up to MAX_STRIDE, so `id,answer`
pairs and a few extra columns still match). Skipped: ELF objects (compiled code) and .pyc files next to
their .py (derived from it); both are listed in the output's "skipped" count by reason, never silently.
"""
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import sys
import zipfile

import numpy as np

MAX_STRIDE = 8
MAX_DEPTH = 3  # nested archives
MAX_STREAM = 512 << 20  # bytes read from one file or archive member
MIN_MATCHES = 2  # windows of one task found in one file before it is reported
MAX_RECORD_ANCHORS = 20000  # occurrences of a record's rarest token that are looked around
CHUNK = 16 << 20
OVERLAP = 1 << 20  # more than any window spans (at most a few thousand tokens or values)
TOKEN = re.compile(rb"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+|[A-Za-z]+")
BINARY_VIEWS = ["u1", "<i4", "<i8", "<f4", "<f8", ">f8"]


def norm(tok):
    """One token's canonical form: numbers to 7 significant digits, words lower-cased."""
    if tok[:1].isalpha():
        return tok.lower()
    try:
        return "%.7g" % float(tok)
    except ValueError:
        return tok


def tokens_of_fields(fields):
    return [norm(t.decode()) for f in fields for t in TOKEN.findall(f.encode())]


class Fingerprints:
    """Every window of every task as token-id sequences, plus the numeric value of each numeric token id."""

    def __init__(self, specs):
        self.ids = {}
        self.windows = []  # (task index, token ids, strides)
        for t, spec in enumerate(specs):
            for kind, strides in (("answers", range(1, MAX_STRIDE + 1)), ("rows", range(1, 2)), ("records", None)):
                for fields in spec[kind]:
                    toks = tokens_of_fields(fields)
                    if toks:
                        win = np.array([self.ids.setdefault(x, len(self.ids)) for x in toks], dtype=np.int32)
                        self.windows.append((t, win, None if strides is None else list(strides)))
        numeric = [(i, float(tok)) for tok, i in self.ids.items() if not tok[:1].isalpha()]
        self.num_ids = np.array([i for i, _ in numeric], dtype=np.int32)
        self.num_vals = np.array([v for _, v in numeric], dtype=np.float64)
        self.memo = {}  # raw token -> id: tokens repeat (code, small numbers), norm() is the slow part

    def text_ids(self, data):
        memo = self.memo
        if len(memo) > 1 << 20:
            memo.clear()
        out = []
        for raw in TOKEN.findall(data):
            i = memo.get(raw)
            if i is None:
                i = memo[raw] = self.ids.get(norm(raw.decode("latin-1")), -1)
            out.append(i)
        return np.array(out, dtype=np.int32)

    def binary_ids(self, data, dtype):
        """Token ids of `data` viewed as an array of `dtype` (-1 where a value is no fingerprint number)."""
        dt = np.dtype(dtype)
        arr = np.frombuffer(data, dtype=dt, count=len(data) // dt.itemsize)
        if dt.kind == "f":
            with np.errstate(over="ignore"):
                vals = self.num_vals.astype(dt)  # compare in the stored precision: float32(359.1) == 359.1 as f4
            ok = np.isfinite(vals)
        else:
            info = np.iinfo(dt)
            ok = (self.num_vals == np.round(self.num_vals)) & (self.num_vals >= info.min) & (self.num_vals <= info.max)
            vals = np.where(ok, self.num_vals, 0).astype(dt)
        vals, ids = vals[ok], self.num_ids[ok]
        order = np.argsort(vals, kind="stable")
        vals, ids = vals[order], ids[order]
        out = np.full(len(arr), -1, dtype=np.int32)
        if len(vals):
            pos = np.clip(np.searchsorted(vals, arr), 0, len(vals) - 1)
            hit = vals[pos] == arr
            out[hit] = ids[pos[hit]]
        return out

    def matched(self, data):
        """Per task: how many of its windows occur in the file's bytes (read every way, see the module doc)."""
        todo = list(range(len(self.windows)))
        for stream in id_streams(self, data):
            # Most streams hold few fingerprint tokens: a window missing one of its tokens cannot occur.
            present = np.bincount(stream + 1, minlength=len(self.ids) + 1)[1:] > 0
            hits = {}
            todo = [w for w in todo if not (present[self.windows[w][1]].all() and occurs(stream, self.windows[w][1], self.windows[w][2], hits))]
            if not todo:
                break
        counts = {}
        for w in set(range(len(self.windows))) - set(todo):
            counts[self.windows[w][0]] = counts.get(self.windows[w][0], 0) + 1
        return counts


def positions(stream, token, hits):
    if token not in hits:
        hits[token] = np.flatnonzero(stream == token)
    return hits[token]


def occurs(stream, win, strides, hits):
    """Whether `win` occurs in order at one of the strides or, for a record (strides None), in any order nearby."""
    n = len(win)
    if strides is None:
        return record_occurs(stream, win, hits)
    for s in strides:
        span = (n - 1) * s
        if len(stream) <= span:
            continue
        cand = positions(stream, win[0], hits)
        cand = cand[cand < len(stream) - span]
        for k in range(1, n):
            if not len(cand):
                break
            cand = cand[stream[cand + k * s] == win[k]]
        if len(cand):
            return True
    return False


def record_occurs(stream, win, hits):
    """A record (a test row's features and its answer) whose tokens all lie within one row's span, in any column order."""
    need = np.bincount(win, minlength=int(win.max()) + 1)
    anchor = min(set(win.tolist()), key=lambda t: len(positions(stream, t, hits)))
    reach = len(win) + 1
    for p in positions(stream, anchor, hits)[:MAX_RECORD_ANCHORS]:
        near = stream[max(0, p - reach) : p + reach]
        have = np.bincount(near[(near >= 0) & (near < len(need))], minlength=len(need))
        if (have >= need).all():
            return True
    return False


def unpacked(data, depth=0):
    """The stream itself and, for compressed data or zip archives, what they hold (bounded in size and depth)."""
    yield data
    if depth >= MAX_DEPTH:
        return
    inner = []
    try:
        if data[:2] == b"\x1f\x8b":
            inner.append(gzip.GzipFile(fileobj=io.BytesIO(data)).read(MAX_STREAM))
        elif data[:3] == b"BZh":
            inner.append(bz2.BZ2File(io.BytesIO(data)).read(MAX_STREAM))
        elif data[:6] == b"\xfd7zXZ\x00":
            inner.append(lzma.LZMAFile(io.BytesIO(data)).read(MAX_STREAM))
        elif data[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                inner.extend(z.open(m).read(MAX_STREAM) for m in z.infolist() if not m.is_dir())
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, NotImplementedError, RuntimeError):
        pass  # not really compressed (a magic by chance) or damaged: the raw bytes were scanned already
    for d in inner:
        yield from unpacked(d, depth + 1)


def chunks(data):
    """CHUNK-sized pieces overlapping by OVERLAP bytes, so memory stays bounded and no window is cut in two."""
    for start in range(0, max(len(data), 1), CHUNK):
        yield data[start : start + CHUNK + OVERLAP]


def id_streams(fp, data):
    for d in unpacked(data):
        binary = b"\0" in d[:65536]  # numbers stored as machine values
        for piece in chunks(d):
            yield fp.text_ids(piece)
            if binary:
                for dtype in BINARY_VIEWS:
                    for off in range(np.dtype(dtype).itemsize):
                        yield fp.binary_ids(piece[off:], dtype)


def hashes(spec, key):
    return {int(size): set(h) for size, h in spec[key].items()}


def skip_reason(path, head):
    if head[:4] == b"\x7fELF":
        return "elf"
    if path.endswith(".pyc") and os.path.basename(os.path.dirname(path)) == "__pycache__":
        src = os.path.join(os.path.dirname(os.path.dirname(path)), os.path.basename(path).split(".")[0] + ".py")
        if os.path.exists(src):
            return "pyc"
    return None


def main():
    specs = [json.loads(a) for a in sys.argv[1:]]
    fp = Fingerprints(specs)
    hidden = [hashes(s, "fileHashes") for s in specs]
    public = {}
    for s in specs:
        for size, hs in hashes(s, "publicHashes").items():
            public.setdefault(size, set()).update(hs)
    found, skipped = [], {}
    for root, dirs, files in os.walk("/"):
        if root == "/":
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
        for name in files:
            path = os.path.join(root, name)
            try:
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read(MAX_STREAM)
            except OSError:
                continue  # unreadable to the agent's user is unreachable
            reason = skip_reason(path, data[:4])
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest in public.get(len(data), ()):
                continue
            for t, h in enumerate(hidden):
                if digest in h.get(len(data), ()):
                    found.append({"task": specs[t]["task"], "path": path, "kind": "file"})
            for t, n in fp.matched(data).items():
                total = sum(1 for w in fp.windows if w[0] == t)
                if n >= min(MIN_MATCHES, total):
                    found.append({"task": specs[t]["task"], "path": path, "kind": "content", "matched": n, "of": total})
    print(json.dumps({"found": found, "skipped": skipped}))


main()
