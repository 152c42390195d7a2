"""Reference solution for digits (kept out of the agent's workspace): RBF support vector machine on scaled pixels."""
import pandas as pd
from sklearn.svm import SVC

train, test = pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")
model = SVC(C=10).fit(train.filter(like="pixel") / 16.0, train["digit"])
pd.DataFrame({"id": test["id"], "digit": model.predict(test.filter(like="pixel") / 16.0)}).to_csv("submission.csv", index=False)
