"""PEFT parity golden (run by record-lora-golden.sh): loads the tiny Llama base with transformers and our adapter
files with peft's PeftModel, records the logits of fixed token ids with the adapter applied and after peft's own
merge_and_unload, plus sha256 of both files so the test knows it rebuilt the same tensors.

Usage: record_lora_golden.py FIXTURE_DIR OUT_JSON   (FIXTURE_DIR/base, FIXTURE_DIR/adapter)
"""
import hashlib
import importlib.metadata
import json
import os
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

IDS = [[1, 17, 250, 3, 99, 42, 7, 300], [5, 5, 128, 64, 2, 319, 0, 11]]  # = LORA_FIXTURE_IDS


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(d, out):
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(os.path.join(d, "base"), torch_dtype=torch.float32)
    with torch.no_grad():
        plain = base(torch.tensor(IDS)).logits
    model = PeftModel.from_pretrained(base, os.path.join(d, "adapter"))
    model.eval()
    with torch.no_grad():
        adapted = model(torch.tensor(IDS)).logits
        merged = model.merge_and_unload()(torch.tensor(IDS)).logits
    golden = {
        "versions": {p: importlib.metadata.version(p) for p in ["torch", "transformers", "peft"]},
        "adapter_model_sha256": sha(os.path.join(d, "adapter", "adapter_model.safetensors")),
        "model_sha256": sha(os.path.join(d, "base", "model.safetensors")),
        "ids": IDS,
        "logits": [round(float(x), 7) for x in adapted.reshape(-1).tolist()],
        "max_abs_adapter_effect": float((adapted - plain).abs().max()),
        "max_abs_merged_vs_adapted": float((merged - adapted).abs().max()),
    }
    with open(out, "w") as f:
        json.dump(golden, f)
        f.write("\n")
    print(f"wrote {out}: adapter effect {golden['max_abs_adapter_effect']:.3g}, peft merge vs adapted {golden['max_abs_merged_vs_adapted']:.3g}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
