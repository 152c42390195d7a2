"""Exports scikit-learn's bundled 8x8 handwritten digits (Debian python3-sklearn) as full.csv: digit + 64 pixels."""
import sys

import pandas as pd
from sklearn.datasets import load_digits

d = load_digits()
df = pd.DataFrame(d.data.astype(int), columns=[f"pixel{i}" for i in range(64)])
df.insert(0, "digit", d.target)
df.to_csv(f"{sys.argv[1]}/full.csv", index=False)
