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

Content matching survives re-serialisation: every readable file is decompressed or unpacked (gzip, bzip2,
xz, zip and so npz, tar, ar and so .deb; nested a few levels) and what it holds is read two ways. As text:
tokens are numbers (sign dropped, 7 significant digits: "3", "3.0" and float32's 3.0000001 agree) and lower-cased words, so CSV, JSON, ARFF, Python literals match.
As binary: the bytes are viewed as uint8, little-endian int32/int64/float32/float64 and big-endian float64
(R's XDR) at every alignment, which covers .npy/.npz, idx, raw arrays and pickled numpy buffers. A window
matches where its tokens appear in order at a fixed stride (1 = contiguous; up to MAX_STRIDE, so `id,answer`
pairs and a few extra columns still match). Skipped: ELF objects (compiled code, also inside archives) and
.pyc files next to their .py (derived from it); both are listed in the output's "skipped" count by reason,
never silently. One pass checks any number of tasks; a file identical to one of a task's public files is not
checked for that task (its agent reads it anyway) but is for the others.
"""
import bz2
import gzip
import hashlib
import io
import itertools
import json
import lzma
import os
import re
import sys
import tarfile
import zipfile

import numpy as np

MAX_STRIDE = 8
MAX_DEPTH = 3  # nested archives
MAX_STREAM = 512 << 20  # bytes read from one file or archive member
MIN_MATCHES = 2  # windows of one task found in one file before it is reported
MAX_RECORD_ANCHORS = 20000  # occurrences of a record's rarest token that are looked around
SKIPPED = {}  # reason -> files (or archive members) not scanned
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
        self.total = [sum(1 for w in self.windows if w[0] == t) for t in range(len(specs))]
        # All windows' tokens end to end, for checking every window against a stream in one vectorised step.
        self.flat = np.concatenate([w[1] for w in self.windows] or [np.zeros(0, dtype=np.int32)])
        self.starts = np.cumsum([0] + [len(w[1]) for w in self.windows[:-1]]).astype(np.int64)
        self.views = {}  # dtype -> BinaryLookup
        self.memo = {}  # raw token -> id: tokens repeat (code, small numbers), norm() is the slow part

    def text_ids(self, data):
        memo = self.memo
        if len(memo) > 1 << 20:
            memo.clear()
        raw = TOKEN.findall(data)
        ids = np.fromiter(map(memo.get, raw, itertools.repeat(-2, len(raw))), dtype=np.int32, count=len(raw))
        new = np.flatnonzero(ids == -2)
        if len(new):  # tokens not seen before: normalise each distinct one once
            for tok in {raw[j] for j in new}:
                memo[tok] = self.ids.get(norm(tok.decode("latin-1")), -1)
            ids[new] = [memo[raw[j]] for j in new]
        return ids

    def binary_ids(self, data, dtype):
        """Token ids of `data` viewed as an array of `dtype` (-1 where a value is no fingerprint number)."""
        if dtype not in self.views:
            self.views[dtype] = BinaryLookup(dtype, self.num_vals, self.num_ids)
        return self.views[dtype].ids_of(data)

    def matched(self, data):
        """Per task: how many of its windows occur in the file's bytes (read every way, see the module doc)."""
        todo = np.ones(len(self.windows), dtype=bool)
        for stream in id_streams(self, data):
            live = self.candidates(stream, todo) if todo.any() else []
            if not len(live):
                continue
            counts = np.bincount(stream + 1, minlength=len(self.ids) + 1)[1:]
            # Each window is looked for around its rarest token; all anchors' positions come from one pass.
            anchors = {w: min(self.windows[w][1].tolist(), key=counts.__getitem__) for w in live}
            where = Positions(stream, anchors.values())
            for w in live:
                _, win, strides = self.windows[w]
                order = np.argsort(counts[win], kind="stable")
                hit = record_occurs(stream, win, order, where.of(anchors[w])) if strides is None else occurs(stream, win, order, strides, where.of(anchors[w]))
                if hit:
                    todo[w] = False
            if not todo.any():
                break
        counts = {}
        for w in np.flatnonzero(~todo):
            counts[self.windows[w][0]] = counts.get(self.windows[w][0], 0) + 1
        return counts

    def candidates(self, stream, todo):
        """Windows still to find whose tokens all occur in the stream (most streams hold few fingerprint tokens)."""
        present = np.zeros(len(self.ids) + 1, dtype=bool)
        present[stream + 1] = True
        present = present[1:]
        complete = np.minimum.reduceat(present[self.flat], self.starts)
        return np.flatnonzero(complete & todo)


class BinaryLookup:
    """The fingerprint numbers as machine values of one dtype, sorted, behind a hash prefilter on the raw bits."""

    HASH_BITS = 16

    def __init__(self, dtype, num_vals, num_ids):
        dt = self.dt = np.dtype(dtype)
        if dt.kind == "f":
            with np.errstate(over="ignore"):
                vals = num_vals.astype(dt)  # compare in the stored precision: float32(359.1) == 359.1 as f4
            ok = np.isfinite(vals)
        else:
            info = np.iinfo(dt)
            ok = (num_vals == np.round(num_vals)) & (num_vals >= info.min) & (num_vals <= info.max)
            vals = np.where(ok, num_vals, 0).astype(dt)
        vals, ids = vals[ok], num_ids[ok]
        order = np.argsort(vals, kind="stable")
        self.vals, self.ids = vals[order], ids[order]
        self.table = np.zeros(1 << (8 if dt.itemsize == 1 else self.HASH_BITS), dtype=bool)
        self.table[self.hash(self.vals)] = True
        if dt.kind == "f":
            self.table[self.hash(-self.vals)] = True  # -0.0 equals 0.0 but has other bits

    def hash(self, arr):
        """Multiplicative (Fibonacci) hash of the raw bits; one byte is its own index."""
        size = self.dt.itemsize
        if size == 1:
            return arr.view(np.uint8)
        u = np.dtype(f"{self.dt.byteorder if self.dt.byteorder in '<>' else '='}u{size}")
        bits = arr.view(u).astype(np.uint64 if size == 8 else np.uint32, copy=False)
        mult, shift = (np.uint64(0x9E3779B97F4A7C15), np.uint64(64 - self.HASH_BITS)) if size == 8 else (np.uint32(0x9E3779B1), np.uint32(32 - self.HASH_BITS))
        return (bits * mult) >> shift

    def ids_of(self, data):
        arr = np.frombuffer(data, dtype=self.dt, count=len(data) // self.dt.itemsize)
        out = np.full(len(arr), -1, dtype=np.int32)
        if len(self.vals):
            maybe = np.flatnonzero(self.table[self.hash(arr)])
            sub = arr[maybe]
            pos = np.clip(np.searchsorted(self.vals, sub), 0, len(self.vals) - 1)
            hit = self.vals[pos] == sub
            out[maybe[hit]] = self.ids[pos[hit]]
        return out


class Positions:
    """Sorted positions in `stream` of each of `tokens`, found in one pass over the stream."""

    def __init__(self, stream, tokens):
        wanted = np.zeros(int(stream.max(initial=-1)) + 2, dtype=bool)
        toks = np.array([t for t in set(tokens) if t < len(wanted) - 1], dtype=np.int64)
        wanted[toks + 1] = True
        at = np.flatnonzero(wanted[stream + 1])
        vals = stream[at]
        order = np.argsort(vals, kind="stable")
        self.at, self.vals = at[order], vals[order]

    def of(self, token):
        return self.at[np.searchsorted(self.vals, token) : np.searchsorted(self.vals, token, "right")]


def occurs(stream, win, order, strides, anchor_at):
    """Whether `win` occurs in order at one of the strides; `order` lists its positions rarest token first."""
    n, k0 = len(win), order[0]
    step = np.repeat(np.array(strides, dtype=np.int64), len(anchor_at))
    start = np.tile(anchor_at, len(strides)) - k0 * step  # every (anchor, stride) pair's window start
    keep = (start >= 0) & (start + (n - 1) * step < len(stream))
    start, step = start[keep], step[keep]
    for k in order[1:]:
        if not len(start):
            return False
        keep = stream[start + k * step] == win[k]
        start, step = start[keep], step[keep]
    return len(start) > 0


def record_occurs(stream, win, order, anchor_at):
    """A record (a test row's features and its answer) whose tokens all lie within one row's span, in any column order."""
    reach = len(win) + 1
    at = anchor_at[:MAX_RECORD_ANCHORS]
    idx = at[:, None] + np.arange(-reach, reach)
    near = np.where((idx >= 0) & (idx < len(stream)), stream[np.clip(idx, 0, len(stream) - 1)], -1)
    seen = set()
    for k in order:
        tok = win[k]
        if tok in seen:
            continue
        seen.add(tok)
        near = near[(near == tok).sum(axis=1) >= int((win == tok).sum())]
        if not len(near):
            return False
    return True


def unpacked(data, depth=0):
    """What compressed data or an archive (gzip, bzip2, xz, zip, ar as in .deb, tar) holds, else the stream itself.

    The raw bytes of a stream that unpacks are not scanned: compressed bytes hold no readable numbers or words.
    """
    inner = None
    if depth < MAX_DEPTH:
        try:
            if data[:2] == b"\x1f\x8b":
                inner = [gzip.GzipFile(fileobj=io.BytesIO(data)).read(MAX_STREAM)]
            elif data[:3] == b"BZh":
                inner = [bz2.BZ2File(io.BytesIO(data)).read(MAX_STREAM)]
            elif data[:6] == b"\xfd7zXZ\x00":
                inner = [lzma.LZMAFile(io.BytesIO(data)).read(MAX_STREAM)]
            elif data[:4] == b"PK\x03\x04":
                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    inner = [z.open(m).read(MAX_STREAM) for m in z.infolist() if not m.is_dir()]
            elif data[:8] == b"!<arch>\n":
                inner = ar_members(data)
            elif data[257:262] == b"ustar":
                with tarfile.open(fileobj=io.BytesIO(data)) as t:
                    inner = [t.extractfile(m).read(MAX_STREAM) for m in t.getmembers() if m.isfile()]
        except (OSError, EOFError, ValueError, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError, NotImplementedError, RuntimeError):
            inner = None  # not really compressed (a magic by chance) or damaged: scan the raw bytes
    if inner is None:
        yield data
        return
    for d in inner:
        if d[:4] == b"\x7fELF":
            SKIPPED["elf"] = SKIPPED.get("elf", 0) + 1  # compiled code, as for files
            continue
        yield from unpacked(d, depth + 1)


def ar_members(data):
    """Members of a Unix ar archive (a .deb holds its files in data.tar.*): 60-byte headers, even-padded data."""
    out, pos = [], 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        if header[58:60] != b"`\n":
            raise ValueError("bad ar header")
        size = int(header[48:58])
        out.append(data[pos + 60 : pos + 60 + size])
        pos += 60 + size + (size & 1)
    return out


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
    public = [hashes(s, "publicHashes") for s in specs]
    found, skipped = [], SKIPPED
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
            # A task's own public file is the agent's to read; for the other tasks it is a file like any other.
            own = {t for t, h in enumerate(public) if digest in h.get(len(data), ())}
            if len(own) == len(specs):
                continue
            for t, h in enumerate(hidden):
                if t not in own and digest in h.get(len(data), ()):
                    found.append({"task": specs[t]["task"], "path": path, "kind": "file"})
            for t, n in fp.matched(data).items():
                total = fp.total[t]
                if t not in own and n >= min(MIN_MATCHES, total):
                    found.append({"task": specs[t]["task"], "path": path, "kind": "content", "matched": n, "of": total})
    print(json.dumps({"found": found, "skipped": skipped}))


main()
