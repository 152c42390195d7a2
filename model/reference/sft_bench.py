"""PyTorch reference for `mlagent bench model --model NAME --train-batch B --seq T`: SFT steps of the same model
(the same GGUF file, dequantized by transformers' loader) on the same token rows, the way model/sft-trainer.ts
trains: micro-batches with gradient accumulation, each decoder layer recomputed in the backward pass (gradient
checkpointing), gradient clipping, AdamW, fp32 on the CPU, one batch of rows per step as ours (the first step is
the warm-up), each micro-batch cut after its last token as ours is (trailing padding). Prints one JSON line:
tokens/s (every position of the rows, as ours) after the first step and peak RSS. Runs in the reference venv
(.mlagent/ref-venv, model/reference/record-golden.sh).

usage: sft_bench.py GGUF BATCHES_JSON MICRO THREADS
"""
import json
import os
import resource
import sys
import time

import torch
import transformers
from transformers import AutoModelForCausalLM


def main() -> None:
    gguf_path, batches_path, micro, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    # [[{"ids", "targets", "weights", "segments"}, ...], ...]: one batch per step
    batches = json.load(open(batches_path))
    # transformers 5 names the dtype argument `dtype`; 4.46 (Debian's torch 1.13) only knows `torch_dtype`
    dtype = {"dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype": torch.float32}
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path), tie_word_embeddings=True, **dtype)
    model.gradient_checkpointing_enable()
    model.config.use_cache = False
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01)
    times, losses, tokens = [], [], []
    for rows in batches:
        ids = torch.tensor([r["ids"] for r in rows])
        targets = torch.tensor([r["targets"] for r in rows])
        segments = torch.tensor([r["segments"] for r in rows])
        # SFT rows weight only response tokens; the loss is their mean, as in model/lm-loss.ts (packed examples are
        # not masked from each other here: the same work, a slightly different loss)
        weights = torch.tensor([r["weights"] for r in rows], dtype=torch.float32)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for s in range(0, len(rows), micro):
            used = int((segments[s:s + micro] != 0).any(0).nonzero().max()) + 1
            logits = model(input_ids=ids[s:s + micro, :used]).logits
            per_token = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[s:s + micro, :used].reshape(-1), reduction="none")
            loss = (per_token * weights[s:s + micro, :used].reshape(-1)).sum() / weights.sum()
            loss.backward()
            total += loss.item()
            del logits, loss
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(total)
        tokens.append(ids.numel())
    timed = times[1:]
    print(json.dumps({
        "tokens_per_s": sum(tokens[1:]) / sum(timed),
        "first_step_s": times[0],
        "losses": losses,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": threads,
    }))


if __name__ == "__main__":
    main()
