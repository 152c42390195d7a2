"""Starter for digits: logistic regression on the raw pixel intensities. Writes submission.csv (id,digit)."""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, so runs are comparable and fit the sandbox CPU limit

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

# 1. load
train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
TARGET = "digit"

# 2. features: pixel intensities scaled to [0, 1]
def features(df):
    return df.filter(like="pixel") / 16.0

X, y = features(train), train[TARGET]
X_test = features(test)

# 3. model
model = LogisticRegression(max_iter=200)

# 4. fit on 80% of train, report the metric on the other 20%
X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.2, random_state=0)
model.fit(X_tr, y_tr)
print("validation accuracy:", accuracy_score(y_val, model.predict(X_val)))

# 5. predict
pred = model.predict(X_test)

# 6. write submission
pd.DataFrame({"id": test["id"], TARGET: pred}).to_csv("submission.csv", index=False)
print("wrote submission.csv with", len(pred), "rows")
