"""Independent PyTorch reference of the Qwen2 architecture (as published with Hugging Face's Qwen2 model):
logits parity target for the tfjs model and the PyTorch baseline of `mlagent bench model`.

Usage (Debian's /usr/bin/python3 with python3-torch):
  qwen2_ref.py logits DIR IDS_JSON OUT_JSON     logits of a checkpoint directory for token ids [[...], ...]
  qwen2_ref.py init CONFIG_JSON SEED DIR        random checkpoint written in Hugging Face layout
  qwen2_ref.py bench CONFIG_JSON BATCH SEQ STEPS THREADS   training tokens/s (AdamW step included)
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (np.uint16, 2)}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    body = buf[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dt, width = DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        arr = np.frombuffer(body[b:end], dtype=dt)
        if e["dtype"] == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(e["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().numpy().astype("<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        H, self.nh, self.nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = H // self.nh
        self.q_proj = torch.nn.Linear(H, self.nh * self.hd, bias=True)
        self.k_proj = torch.nn.Linear(H, self.nkv * self.hd, bias=True)
        self.v_proj = torch.nn.Linear(H, self.nkv * self.hd, bias=True)
        self.o_proj = torch.nn.Linear(self.nh * self.hd, H, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.nh // self.nkv
        k = k[:, :, None].expand(B, self.nkv, rep, T, self.hd).reshape(B, self.nh, T, self.hd)
        v = v[:, :, None].expand(B, self.nkv, rep, T, self.hd).reshape(B, self.nh, T, self.hd)
        scores = q @ k.transpose(2, 3) / math.sqrt(self.hd)
        causal = torch.full((T, T), float("-inf")).triu(1)
        p = torch.softmax(scores + causal, dim=-1)
        return self.o_proj((p @ v).transpose(1, 2).reshape(B, T, -1))


class MLP(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        H, I = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = torch.nn.Linear(H, I, bias=False)
        self.up_proj = torch.nn.Linear(H, I, bias=False)
        self.down_proj = torch.nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Body(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = torch.nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class Qwen2(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Body(c)
        self.lm_head = torch.nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        if c["tie_word_embeddings"]:
            self.lm_head.weight = self.model.embed_tokens.weight
        self.value_head = torch.nn.Linear(c["hidden_size"], 1)
        hd = c["hidden_size"] // c["num_attention_heads"]
        self.register_buffer("inv_freq", 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd)), persistent=False)

    def forward(self, ids):
        T = ids.shape[1]
        freqs = torch.arange(T, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.model.norm(x))


def load(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    m = Qwen2(c)
    sd = read_safetensors(os.path.join(d, "model.safetensors"))
    if c["tie_word_embeddings"]:
        sd.setdefault("lm_head.weight", sd["model.embed_tokens.weight"])
    missing, unexpected = m.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.startswith("value_head.")]
    if missing or unexpected:
        raise SystemExit(f"checkpoint mismatch: missing {missing} unexpected {unexpected}")
    return m


def main():
    cmd = sys.argv[1]
    if cmd == "logits":
        m = load(sys.argv[2]).eval()
        ids = torch.tensor(json.load(open(sys.argv[3])), dtype=torch.long)
        with torch.no_grad():
            json.dump(m(ids).tolist(), open(sys.argv[4], "w"))
    elif cmd == "init":
        c = json.load(open(sys.argv[2]))
        torch.manual_seed(int(sys.argv[3]))
        m = Qwen2(c)
        for n, p in m.named_parameters():
            with torch.no_grad():
                p.normal_(1.0 if n.endswith("norm.weight") else 0.0, 0.1 if n.endswith("norm.weight") else 0.05)
        os.makedirs(sys.argv[4], exist_ok=True)
        sd = {k: v for k, v in m.state_dict().items() if not (c["tie_word_embeddings"] and k == "lm_head.weight")}
        write_safetensors(os.path.join(sys.argv[4], "model.safetensors"), sd)
        json.dump(c, open(os.path.join(sys.argv[4], "config.json"), "w"), indent=2)
    elif cmd == "bench":
        c = json.load(open(sys.argv[2]))
        B, T, steps, threads = (int(a) for a in sys.argv[3:7])
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        m = Qwen2(c)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
        ids = torch.randint(0, c["vocab_size"], (B, T + 1))
        times = []
        for i in range(steps + 1):
            t0 = time.perf_counter()
            logits = m(ids[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, c["vocab_size"]), ids[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            if i > 0:
                times.append(time.perf_counter() - t0)
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"tokens_per_s": B * T * len(times) / sum(times), "step_s": sum(times) / len(times), "peak_rss_mib": peak, "torch": torch.__version__}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
