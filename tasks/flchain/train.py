"""Starter for flchain: Cox proportional hazards on the numeric columns. Writes submission.csv (id,risk)."""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, so runs are comparable and fit the sandbox CPU limit

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from statsmodels.duration.hazard_regression import PHReg

# 1. load
train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
TIME, EVENT = "futime", "death"

# 2. features: numeric columns, median-filled and standardised (the Cox fit needs comparable scales)
def features(df):
    return df.drop(columns=["id", TIME, EVENT], errors="ignore").select_dtypes("number")

X = features(train)
fill, mean, std = X.median(), X.mean(), X.std()
X, X_test = (X.fillna(fill) - mean) / std, (features(test).fillna(fill) - mean) / std

# 3. model: fitted below with statsmodels (BFGS converges where the default Newton steps do not)
def fit(X, df):
    return PHReg(df[TIME].to_numpy(), X.to_numpy(), status=df[EVENT].to_numpy()).fit(method="bfgs", maxiter=200, disp=False)

def c_index(time, event, risk):
    """Harrell's C: among pairs where the earlier time is a death, the share ordered right by risk."""
    earlier = (time[:, None] < time[None, :]) & (event[:, None] == 1)
    diff = risk[:, None] - risk[None, :]
    return ((diff > 0) + 0.5 * (diff == 0))[earlier].mean()

# 4. fit on 80% of train, report the metric on the other 20%
X_tr, X_val, d_tr, d_val = train_test_split(X, train, test_size=0.2, random_state=0)
result = fit(X_tr, d_tr)
print("validation C-index:", c_index(d_val[TIME].to_numpy(), d_val[EVENT].to_numpy(), X_val.to_numpy() @ result.params))

# 5. predict: the linear predictor is the log relative hazard, higher = earlier death
pred = X_test.to_numpy() @ result.params

# 6. write submission
pd.DataFrame({"id": test["id"], "risk": pred}).to_csv("submission.csv", index=False)
print("wrote submission.csv with", len(pred), "rows")
