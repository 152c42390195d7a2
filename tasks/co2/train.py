"""Starter for co2: linear trend in time. Writes submission.csv (id,co2)."""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, so runs are comparable and fit the sandbox CPU limit

import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split

# 1. load
train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
TARGET = "co2"

# 2. features: time in years since 1958
def features(df):
    t = pd.to_datetime(df["date"])
    return pd.DataFrame({"years": (t - pd.Timestamp("1958-01-01")).dt.days / 365.25})

X, y = features(train), train[TARGET]
X_test = features(test)

# 3. model
model = LinearRegression()

# 4. fit on the first 80% of train (by date), report the metric on the later 20%
X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.2, shuffle=False)
model.fit(X_tr, y_tr)
print("validation MAE:", mean_absolute_error(y_val, model.predict(X_val)))

# 5. predict
pred = model.predict(X_test)

# 6. write submission
pd.DataFrame({"id": test["id"], TARGET: pred}).to_csv("submission.csv", index=False)
print("wrote submission.csv with", len(pred), "rows")
