"""Starter for trump_tweets: logistic regression on word counts of the text. Writes submission.csv (id,device)."""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # one core, so runs are comparable and fit the sandbox CPU limit

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

# 1. load
train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
TARGET = "device"
POSITIVE = "android"

# 2. features: the raw text (the vectorizer below turns it into word counts)
def features(df):
    return df["text"].fillna("")

X, y = features(train), train[TARGET]
X_test = features(test)

# 3. model
model = make_pipeline(CountVectorizer(max_features=2000), LogisticRegression(max_iter=1000))

# 4. fit on 80% of train, report the metric on the other 20%
X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.2, random_state=0)
model.fit(X_tr, y_tr)
pos = list(model.classes_).index(POSITIVE)  # predict_proba's column of the positive label
print("validation AUC:", roc_auc_score(y_val == POSITIVE, model.predict_proba(X_val)[:, pos]))

# 5. predict
pred = model.predict_proba(X_test)[:, pos]  # probability of POSITIVE

# 6. write submission
pd.DataFrame({"id": test["id"], TARGET: pred}).to_csv("submission.csv", index=False)
print("wrote submission.csv with", len(pred), "rows")
