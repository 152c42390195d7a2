"""Reference solution for fashion_mnist (kept out of the agent's workspace): RBF support vector machine on scaled pixels."""
import pandas as pd
from sklearn.svm import SVC

train, test = pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")
model = SVC(C=10).fit(train.filter(like="pixel") / 255.0, train["label"])
pd.DataFrame({"id": test["id"], "label": model.predict(test.filter(like="pixel") / 255.0)}).to_csv("submission.csv", index=False)
