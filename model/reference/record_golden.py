"""Golden values of the shipped SmolLM2 GGUF from the reference implementations (run by record-golden.sh):
  - dequantization: sha256 of gguf.quants.dequantize's float32 bytes for every tensor of the file, and for
    seeded random blocks of every quant type the importer reads;
  - logits: transformers' LlamaForCausalLM loaded from the GGUF (its own dequantization and Q/K un-permutation),
    float32, last position of a chat-templated prompt of >= 64 tokens;
  - tokenizer: token ids of a mixed corpus from transformers' GGUF tokenizer conversion;
  - chat template: transformers' apply_chat_template text;
  - state prompt: the agent's messages at a fixed state (JSON from model/reference/state-prompt.ts), rendered by
    apply_chat_template as a generation prompt and as a whole conversation, with the prompt's token ids.

Usage: record_golden.py GGUF OUT_JSON [STATE_MESSAGES_JSON]
   or: record_golden.py --tokenizer-only GGUF OUT_JSON STATE_MESSAGES_JSON  (re-records only tokenizer and state_prompt, no model load)
"""
import base64
import hashlib
import importlib.metadata
import json
import os
import sys

import numpy as np
import torch
import gguf
import transformers
from gguf import GGMLQuantizationType as T
from transformers import AutoModelForCausalLM, AutoTokenizer

SYNTHETIC = {  # type: (offsets of float16 scale fields in a block, block bytes)
    "F32": ([], 4), "F16": ([0], 2), "BF16": ([], 2),
    "Q4_0": ([0], 18), "Q4_1": ([0, 2], 20), "Q5_0": ([0], 22), "Q5_1": ([0, 2], 24), "Q8_0": ([0], 34),
    "Q4_K": ([0, 2], 144), "Q5_K": ([0, 2], 176), "Q6_K": ([208], 210),
}
BLOCKS = 8  # per synthetic type: 8 blocks (2048 values for k-quants, 256 for legacy ones)

CORPUS = [
    "def train(model, data, lr=3e-4):\n    for step, (x, y) in enumerate(data):\n        loss = model(x).cross_entropy(y)\n        loss.backward()\n",
    "id,sepal_length,species\n1,5.1,setosa\n2,4.9,setosa\n150,5.9,virginica\n",
    "The quick brown fox jumps over the lazy dog. It's 2024; we'll see 1234567 tokens, don't we?",
    "Ünïcödé: naïve café, 東京タワー, Привет мир, 😀🚀, emoji and  double  spaces\t\ttabs\n\n\nnewlines",
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "   leading spaces and trailing   ",
    "x = {'a': [1, 2.5, -3e10], \"b\": None}  # comment ~!@#$%^&*()",
    # bytes the vocabulary has no token for (0x04, 0x1D, 0xC0 ...), as a binary file's observation may hold
    "rec\x1dsep.\x1d.((\x04))\x1f\x00 end\x06x",
]

MESSAGES = [
    {"role": "system", "content": "You are an ML engineering agent. Answer with one action."},
    {"role": "user", "content": "The task is tabular regression on the diamonds data set; the metric is RMSE."},
    {"role": "assistant", "content": "Action: run\nAction Input: {\"script\": \"train.py\"}"},
    {"role": "user", "content": "What is the capital of France?"},
]

LOGITS_PROMPT = [
    {"role": "user", "content": "Explain in two sentences why gradient boosting often beats a single decision tree on tabular data, "
                                "and name one hyper-parameter (for example the learning rate, 0.1) that controls overfitting."},
]


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


def synthetic(rng):
    out = {}
    for name, (scale_offsets, block_bytes) in SYNTHETIC.items():
        qtype = T[name]
        if name == "F32":
            raw = rng.standard_normal(64).astype("<f4").view(np.uint8)
        elif name == "F16":
            raw = rng.standard_normal(64).astype("<f2").view(np.uint8)
        elif name == "BF16":
            raw = (rng.standard_normal(64).astype("<f4").view("<u4") >> 16).astype("<u2").view(np.uint8)
        else:
            blocks = rng.integers(0, 256, size=(BLOCKS, block_bytes), dtype=np.uint8)
            for off in scale_offsets:
                blocks[:, off:off + 2] = (rng.standard_normal(BLOCKS) * 0.05).astype("<f2").view(np.uint8).reshape(BLOCKS, 2)
            raw = blocks.reshape(-1)
        values = gguf.quants.dequantize(raw, qtype)
        out[name] = {"bytes_b64": base64.b64encode(raw.tobytes()).decode(), "count": int(values.size), "sha256": sha(values), "first": values.reshape(-1)[:4].tolist()}
    return out


def state_prompt(tok, messages_path):
    with open(messages_path) as f:
        messages = json.load(f)
    prompt = tok.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    return {
        "messages": messages,
        "prompt": prompt,
        "prompt_ids": tok(prompt, add_special_tokens=False).input_ids,
        "conversation": tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False),
    }


def tokenizer_corpus(tok):
    return [{"text": s, "ids": tok(s, add_special_tokens=False).input_ids} for s in CORPUS]


def tokenizer_only(gguf_path, out_path, messages_path):
    d, fname = os.path.split(os.path.abspath(gguf_path))
    tok = AutoTokenizer.from_pretrained(d, gguf_file=fname)
    with open(out_path) as f:
        golden = json.load(f)
    golden["tokenizer"] = tokenizer_corpus(tok)
    golden["state_prompt"] = state_prompt(tok, messages_path)
    with open(out_path, "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"updated tokenizer ({len(golden['tokenizer'])} texts) and state_prompt in {out_path}: {len(golden['state_prompt']['prompt_ids'])}-token prompt")


def main(gguf_path, out_path, messages_path=None):
    d, fname = os.path.split(os.path.abspath(gguf_path))
    with open(gguf_path, "rb") as f:
        file_sha = hashlib.sha256(f.read()).hexdigest()
    reader = gguf.GGUFReader(gguf_path)
    tensors = {}
    for t in reader.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type)
        tensors[t.name] = {"type": t.tensor_type.name, "shape": list(values.shape), "sha256": sha(values)}

    tok = AutoTokenizer.from_pretrained(d, gguf_file=fname)
    corpus = tokenizer_corpus(tok)
    chat = {
        "messages": MESSAGES,
        "with_system": tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True),
        "default_system": tok.apply_chat_template(MESSAGES[1:], tokenize=False, add_generation_prompt=False),
    }

    # transformers 4.46 does not infer tied embeddings from a GGUF without output.weight: say so explicitly
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=fname, torch_dtype=torch.float32, tie_word_embeddings=True).eval()
    assert torch.equal(model.lm_head.weight, model.model.embed_tokens.weight), "lm_head is not tied to the embedding"
    prompt = tok.apply_chat_template(LOGITS_PROMPT, tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, add_special_tokens=False).input_ids
    assert len(ids) >= 64, len(ids)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, -1].numpy().astype(np.float32)
    top = np.argsort(-logits)[:16]
    stride = 16
    golden = {
        "recorded_by": "model/reference/record-golden.sh",
        "versions": {"gguf": importlib.metadata.version("gguf"), "transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "file": {"name": fname, "sha256": file_sha},
        "tensors": tensors,
        "synthetic": synthetic(np.random.default_rng(1234)),
        "tokenizer": corpus,
        "chat_template": chat,
        **({"state_prompt": state_prompt(tok, messages_path)} if messages_path else {}),
        "logits": {
            "messages": LOGITS_PROMPT,
            "prompt": prompt,
            "ids": ids,
            "stride": stride,
            "sampled": logits[::stride].tolist(),
            "top": [[int(i), float(logits[i])] for i in top],
        },
    }
    with open(out_path, "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {out_path}: {len(tensors)} tensors, {len(ids)}-token logits prompt, top token {int(top[0])}")


if __name__ == "__main__":
    if sys.argv[1] == "--tokenizer-only":
        tokenizer_only(*sys.argv[2:])
    else:
        main(*sys.argv[1:])
