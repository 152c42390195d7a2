"""Reference solution for co2 (kept out of the agent's workspace): quadratic trend plus yearly harmonics."""
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

train, test = pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")


def features(df):
    t = (pd.to_datetime(df["date"]) - pd.Timestamp("1958-01-01")).dt.days / 365.25
    cols = {"t": t, "t2": t**2}
    for k in (1, 2, 3):
        cols[f"sin{k}"], cols[f"cos{k}"] = np.sin(2 * np.pi * k * t), np.cos(2 * np.pi * k * t)
    return pd.DataFrame(cols)


recent = train.iloc[-15 * 52 :]  # the last ~15 years: the trend's curvature changes over decades
model = LinearRegression().fit(features(recent), recent["co2"])
pd.DataFrame({"id": test["id"], "co2": model.predict(features(test))}).to_csv("submission.csv", index=False)
