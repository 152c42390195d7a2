"""Reference solution for lending_club (kept out of the agent's workspace): strongly regularised logistic
regression on one-hot categories and scaled numbers (trees overfit the few bad loans)."""
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

train, test = pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")
X, X_test = train.drop(columns=["id", "Class"]).fillna(0), test.drop(columns=["id"]).fillna(0)
categorical = X.select_dtypes(object).columns.tolist()
numeric = [c for c in X.columns if c not in categorical]
model = make_pipeline(
    make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)),
    LogisticRegression(C=0.01, max_iter=2000),
).fit(X, train["Class"])
pd.DataFrame({"id": test["id"], "Class": model.predict_proba(X_test)[:, list(model.classes_).index("bad")]}).to_csv("submission.csv", index=False)
