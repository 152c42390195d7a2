"""Deterministic train/test split of an exported table into the public and hidden parts of a task.

Usage: split.py SPEC_JSON RAW_DIR PUBLIC_DATA_DIR HIDDEN_DIR
Reads RAW_DIR/full.csv (column `.split` = train|test when the split is the original one), writes
PUBLIC_DATA_DIR/train.csv (features + target), PUBLIC_DATA_DIR/test.csv (id + features),
HIDDEN_DIR/answers.csv (id + target) and, for classification, HIDDEN_DIR/labels.json.
Only numpy's seeded generator decides rows, so the output is a pure function of the inputs.
"""
import json
import sys

import numpy as np
import pandas as pd


def random_split(df, rng, frac, stratify_on):
    if stratify_on is None:
        order = rng.permutation(len(df))
        n_test = int(round(frac * len(df)))
        return order[n_test:], order[:n_test]
    train, test = [], []
    for label in sorted(df[stratify_on].astype(str).unique()):
        idx = np.flatnonzero(df[stratify_on].astype(str).to_numpy() == label)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(frac * len(idx)))
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    train, test = np.array(train), np.array(test)
    return train[rng.permutation(len(train))], test[rng.permutation(len(test))]


def split(df, spec, rng):
    s = spec["split"]
    if s["method"] == "random":
        stratify_on = spec["target"][0] if s.get("stratify") else None
        return random_split(df, rng, s["testFraction"], stratify_on)
    if s["method"] == "time":
        order = np.argsort(df[s["orderBy"]].to_numpy(), kind="stable")
        n_test = int(round(s["testFraction"] * len(df)))
        return order[: len(df) - n_test], order[len(df) - n_test :]
    if s["method"] == "original":
        flag = df.pop(".split").to_numpy()
        bad = set(flag) - {"train", "test"}
        if bad:
            raise SystemExit(f"full.csv: column .split has values {sorted(bad)}; expected train|test")
        return np.flatnonzero(flag == "train"), np.flatnonzero(flag == "test")
    raise SystemExit(f"unknown split method {s['method']}")


def subsample(idx, n, rng):
    if n is None or n >= len(idx):
        return idx
    keep = np.sort(rng.choice(len(idx), size=n, replace=False))
    return idx[keep]


def main():
    spec = json.loads(sys.argv[1])
    raw_dir, public_dir, hidden_dir = sys.argv[2:5]
    df = pd.read_csv(f"{raw_dir}/full.csv", low_memory=False)
    missing = [c for c in spec["target"] if c not in df.columns]
    if missing:
        raise SystemExit(f"full.csv has no target column(s) {missing}; columns: {list(df.columns)[:20]}")
    if "id" in df.columns:
        raise SystemExit("full.csv must not have an 'id' column: the split assigns ids")
    rng = np.random.RandomState(spec["seed"])
    train_idx, test_idx = split(df, spec, rng)
    sub = spec.get("subsample") or {}
    train_idx = subsample(train_idx, sub.get("maxTrainRows"), rng)
    test_idx = subsample(test_idx, sub.get("maxTestRows"), rng)

    train = df.iloc[train_idx].reset_index(drop=True)
    test = df.iloc[test_idx].reset_index(drop=True)
    train.insert(0, "id", np.arange(len(train)))
    test.insert(0, "id", np.arange(len(train), len(train) + len(test)))
    features = [c for c in test.columns if c not in spec["target"]]

    train.to_csv(f"{public_dir}/train.csv", index=False)
    test[features].to_csv(f"{public_dir}/test.csv", index=False)
    test[["id"] + spec["target"]].to_csv(f"{hidden_dir}/answers.csv", index=False)
    if spec["classification"]:
        labels = sorted(pd.concat([train, test])[spec["target"][0]].astype(str).unique())
        with open(f"{hidden_dir}/labels.json", "w") as f:
            json.dump(labels, f)
    print(json.dumps({"train": len(train), "test": len(test)}))


if __name__ == "__main__":
    main()
