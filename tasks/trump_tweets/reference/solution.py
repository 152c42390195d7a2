"""Reference solution for trump_tweets (kept out of the agent's workspace): TF-IDF of word 1-2-grams, logistic regression."""
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

train, test = pd.read_csv("data/train.csv"), pd.read_csv("data/test.csv")
model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), LogisticRegression(C=4, max_iter=2000))
model.fit(train["text"].fillna(""), train["device"])
proba = model.predict_proba(test["text"].fillna(""))[:, list(model.classes_).index("android")]
pd.DataFrame({"id": test["id"], "device": proba}).to_csv("submission.csv", index=False)
