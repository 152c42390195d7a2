"""Reference solution for flchain (kept out of the agent's workspace): Cox model on log light chains, sex and age."""
import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg

train, test = pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")


def features(df):
    return pd.DataFrame({
        "age": df["age"], "male": (df["sex"] == "M").astype(float),
        "lkappa": np.log(df["kappa"]), "llambda": np.log(df["lambda"]),
        "creat": np.log(df["creatinine"].fillna(train["creatinine"].median())),
        "creat_na": df["creatinine"].isna().astype(float), "mgus": df["mgus"],
    })


X, X_test = features(train), features(test)
mean, std = X.mean(), X.std()
res = PHReg(train["futime"].to_numpy(), ((X - mean) / std).to_numpy(), status=train["death"].to_numpy()).fit(method="bfgs", maxiter=500, disp=False)
pd.DataFrame({"id": test["id"], "risk": ((X_test - mean) / std).to_numpy() @ res.params}).to_csv("submission.csv", index=False)
