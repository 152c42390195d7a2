"""Shared by tasks/*/reference/solution.py (run on the host by `mlagent tasks calibrate`, never shown to
the agent): gradient-boosted trees on all columns, text columns as ordinal codes. Writes submission.csv."""
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def load():
    return pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")


def encode(train, test, target_cols, extra=None):
    """Feature matrices for train and test: numbers as they are, text columns as shared category codes."""
    both = pd.concat([train.drop(columns=target_cols), test]).drop(columns=["id"])
    if extra is not None:
        both = extra(both)
    for c in both.columns:
        if both[c].dtype == object:
            both[c] = both[c].astype("category").cat.codes.replace(-1, np.nan)
    return both.iloc[: len(train)], both.iloc[len(train) :]


def hgb(target, kind, positive=None, log_target=False, extra=None, **params):
    """kind: regression | poisson | proba (probability of `positive`) | label | band (rounded regression)."""
    train, test = load()
    X, X_test = encode(train, test, [target], extra)
    y = train[target]
    params = {"max_iter": 500, "learning_rate": 0.05, "random_state": 0, **params}
    if kind in ("proba", "label"):
        model = HistGradientBoostingClassifier(**params).fit(X, y)
        pred = model.predict_proba(X_test)[:, list(model.classes_).index(positive)] if kind == "proba" else model.predict(X_test)
    else:
        loss = "poisson" if kind == "poisson" else "squared_error"
        model = HistGradientBoostingRegressor(loss=loss, **params).fit(X, np.log1p(y) if log_target else y)
        pred = model.predict(X_test)
        pred = np.expm1(pred) if log_target else pred
        if kind == "band":
            pred = np.clip(np.rint(pred), y.min(), y.max()).astype(int)
    pd.DataFrame({"id": test["id"], target: pred}).to_csv("submission.csv", index=False)
