"""Reference solution for pd_speech (kept out of the agent's workspace): random forest over all 750 features."""
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

train, test = pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")
X, X_test = train.drop(columns=["id", "class"]), test.drop(columns=["id"])
model = RandomForestClassifier(n_estimators=1000, max_features="sqrt", random_state=0).fit(X, train["class"])
pd.DataFrame({"id": test["id"], "class": model.predict_proba(X_test)[:, list(model.classes_).index("PD")]}).to_csv("submission.csv", index=False)
