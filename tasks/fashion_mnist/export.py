"""Exports Fashion-MNIST (Debian dataset-fashion-mnist) as full.csv: label + 784 pixel columns, with the
original train/test split. Only the first ROWS images of each file are exported (the files' order is
already random), which keeps prepare quick; split.py then subsamples them so one run stays fast."""
import gzip
import sys

import numpy as np
import pandas as pd

SRC = "/usr/share/datasets/fashion-mnist"
ROWS = 10000


def idx(path, offset):
    with gzip.open(f"{SRC}/{path}") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


parts = []
for split, prefix in (("train", "train"), ("test", "t10k")):
    pixels = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 784)[:ROWS]
    df = pd.DataFrame(pixels, columns=[f"pixel{i}" for i in range(784)])
    df.insert(0, "label", idx(f"{prefix}-labels-idx1-ubyte.gz", 8)[:ROWS])
    df[".split"] = split
    parts.append(df)
pd.concat(parts).to_csv(f"{sys.argv[1]}/full.csv", index=False)
