/**
 * The idea bank's axes as data: model families with key hyperparameters, preprocessing, feature
 * engineering, target transforms, calendar terms and text vectorizers. Each part is a Python
 * expression plus the import lines it needs; idea-bank.ts combines them into ideas.
 */

/** One choice along one axis; `expr` is Python, `imports` the lines it needs. */
export interface Part {
  key: string;
  title: string;
  text: string;
  expr: string;
  imports: string[];
}

export interface Family {
  /** Sensitive to feature scale: gets the preprocessing and feature-engineering axes. */
  scaled: boolean;
  variants: Part[];
}

export const sk = (module: string, name: string) => `from sklearn.${module} import ${name}`;

// ---- model families ----------------------------------------------------------------------------

export const linearRegressors: Family = {
  scaled: true,
  variants: [
    ...[0.3, 3, 30].map((a) => ({ key: `ridge-a${a}`, title: `Ridge (alpha=${a})`, text: `Use ridge regression with L2 penalty alpha=${a} to shrink noisy coefficients.`, expr: `Ridge(alpha=${a})`, imports: [sk('linear_model', 'Ridge')] })),
    ...[0.001, 0.01].map((a) => ({ key: `lasso-a${a}`, title: `Lasso (alpha=${a})`, text: `Use lasso regression (alpha=${a}) so the L1 penalty drops useless features.`, expr: `Lasso(alpha=${a}, max_iter=10000)`, imports: [sk('linear_model', 'Lasso')] })),
    { key: 'enet', title: 'Elastic net', text: 'Use an elastic net (alpha=0.01, l1_ratio=0.5) mixing L1 feature selection with L2 shrinkage.', expr: 'ElasticNet(alpha=0.01, l1_ratio=0.5, max_iter=10000)', imports: [sk('linear_model', 'ElasticNet')] },
  ],
};

export const neighbourRegressors: Family = {
  scaled: true,
  variants: [
    { key: 'knn-10d', title: 'kNN regressor (10, distance)', text: 'Predict with k-nearest neighbours (k=10, distance-weighted), a local non-parametric model.', expr: "KNeighborsRegressor(n_neighbors=10, weights='distance')", imports: [sk('neighbors', 'KNeighborsRegressor')] },
    { key: 'knn-25', title: 'kNN regressor (25)', text: 'Predict with the mean of the 25 nearest neighbours for smooth local averages.', expr: 'KNeighborsRegressor(n_neighbors=25)', imports: [sk('neighbors', 'KNeighborsRegressor')] },
  ],
};

export const mlpRegressors: Family = {
  scaled: true,
  variants: [
    { key: 'mlp-64', title: 'MLP regressor (64)', text: 'Train a small neural network (one hidden layer of 64 ReLU units, early stopping).', expr: 'MLPRegressor(hidden_layer_sizes=(64,), alpha=1e-3, early_stopping=True, max_iter=500, random_state=0)', imports: [sk('neural_network', 'MLPRegressor')] },
    { key: 'mlp-128-64', title: 'MLP regressor (128, 64)', text: 'Train a deeper neural network (hidden layers 128 and 64, L2 alpha=1e-2, early stopping).', expr: 'MLPRegressor(hidden_layer_sizes=(128, 64), alpha=1e-2, early_stopping=True, max_iter=500, random_state=0)', imports: [sk('neural_network', 'MLPRegressor')] },
  ],
};

/** Tree ensembles, for regressors or classifiers (`kind` picks the sklearn class suffix). */
export function treeFamilies(kind: 'Regressor' | 'Classifier', opts: { gradientBoosting: boolean; hgbLoss?: string }): Family[] {
  const forest = (name: 'RandomForest' | 'ExtraTrees', label: string, why: string): Family => ({
    scaled: false,
    variants: [
      [300, 1, '1.0'],
      [300, 3, '0.5'],
      [500, 5, "'sqrt'"],
    ].map(([n, leaf, feat]) =>
      ({
        key: `${name.toLowerCase()}-${n}-${leaf}-${String(feat).replace(/'/g, '')}`,
        title: `${label} (${n} trees, min leaf ${leaf}, max_features ${feat})`,
        text: `Replace the model with ${label.toLowerCase()} of ${n} trees (min_samples_leaf=${leaf}, max_features=${feat}); ${why}`,
        expr: `${name}${kind}(n_estimators=${n}, min_samples_leaf=${leaf}, max_features=${feat}, n_jobs=1, random_state=0)`,
        imports: [sk('ensemble', `${name}${kind}`)],
      }),
    ),
  });
  const loss = opts.hgbLoss ? `loss='${opts.hgbLoss}', ` : '';
  const hgb: Family = {
    scaled: false,
    variants: [
      [0.1, 300, 31, 20],
      [0.05, 600, 15, 20],
      [0.03, 1000, 63, 40],
    ].map(([lr, iters, leaves, minLeaf]) =>
      ({
        key: `hgb-${lr}-${iters}-${leaves}`,
        title: `Histogram gradient boosting (lr ${lr}, ${iters} iters, ${leaves} leaves)`,
        text: `Use histogram-based gradient boosting${opts.hgbLoss ? ` with ${opts.hgbLoss} loss` : ''} (learning_rate=${lr}, max_iter=${iters}, max_leaf_nodes=${leaves}, min_samples_leaf=${minLeaf}) to capture non-linear effects and interactions.`,
        expr: `HistGradientBoosting${kind}(${loss}learning_rate=${lr}, max_iter=${iters}, max_leaf_nodes=${leaves}, min_samples_leaf=${minLeaf}, random_state=0)`,
        imports: [sk('ensemble', `HistGradientBoosting${kind}`)],
      }),
    ),
  };
  const gb: Family = {
    scaled: false,
    variants: [
      [300, 0.05, 3],
      [600, 0.03, 4],
    ].map(([n, lr, depth]) =>
      ({
        key: `gb-${n}-${lr}-${depth}`,
        title: `Gradient boosting (${n} trees, lr ${lr}, depth ${depth})`,
        text: `Use classic gradient boosting with ${n} shallow trees (learning_rate=${lr}, max_depth=${depth}, subsample=0.8 for stochastic boosting).`,
        expr: `GradientBoosting${kind}(n_estimators=${n}, learning_rate=${lr}, max_depth=${depth}, subsample=0.8, random_state=0)`,
        imports: [sk('ensemble', `GradientBoosting${kind}`)],
      }),
    ),
  };
  return [
    forest('RandomForest', 'A random forest', 'averaging decorrelated deep trees lowers variance.'),
    forest('ExtraTrees', 'Extremely randomized trees', 'random split thresholds add regularisation.'),
    hgb,
    ...(opts.gradientBoosting ? [gb] : []),
  ];
}

export const poissonRegressors: Family = {
  scaled: true,
  variants: [
    ...[1e-4, 1e-3, 1e-2, 0.1, 1].map((a) => ({ key: `poisson-a${a}`, title: `Poisson GLM (alpha=${a})`, text: `Fit a Poisson GLM with log link (L2 alpha=${a}), the natural model for counts.`, expr: `PoissonRegressor(alpha=${a}, max_iter=1000)`, imports: [sk('linear_model', 'PoissonRegressor')] })),
    ...[1.2, 1.5, 1.8].map((power) => ({ key: `tweedie-${power}`, title: `Tweedie GLM (power ${power})`, text: `Fit a Tweedie GLM (power=${power}, log link) to allow more variance than Poisson for overdispersed counts.`, expr: `TweedieRegressor(power=${power}, link='log', alpha=1e-3, max_iter=1000)`, imports: [sk('linear_model', 'TweedieRegressor')] })),
  ],
};

export function logisticClassifiers(balanced: boolean): Family {
  return {
    scaled: true,
    variants: [
      ...[0.1, 1, 10].map((c) => ({ key: `logreg-c${c}`, title: `Logistic regression (C=${c})`, text: `Use logistic regression with inverse regularisation C=${c}.`, expr: `LogisticRegression(C=${c}, max_iter=2000)`, imports: [sk('linear_model', 'LogisticRegression')] })),
      ...(balanced
        ? [({ key: 'logreg-balanced', title: 'Class-balanced logistic regression', text: 'Use logistic regression with class_weight="balanced" so the rare class weighs as much as the common one.', expr: "LogisticRegression(C=1.0, class_weight='balanced', max_iter=2000)", imports: [sk('linear_model', 'LogisticRegression')] })]
        : []),
    ],
  };
}

export const neighbourClassifiers: Family = {
  scaled: true,
  variants: [
    { key: 'knn-15d', title: 'kNN classifier (15, distance)', text: 'Classify by the 15 nearest neighbours, weighted by distance.', expr: "KNeighborsClassifier(n_neighbors=15, weights='distance')", imports: [sk('neighbors', 'KNeighborsClassifier')] },
    { key: 'knn-5', title: 'kNN classifier (5)', text: 'Classify by majority vote of the 5 nearest neighbours.', expr: 'KNeighborsClassifier(n_neighbors=5)', imports: [sk('neighbors', 'KNeighborsClassifier')] },
  ],
};

export function mlpClassifiers(sizes: [string, string]): Family {
  return {
    scaled: true,
    variants: sizes.map((h, i) =>
      ({ key: `mlp-${h.replace(/[^0-9]+/g, '-').replace(/^-|-$/g, '')}`, title: `MLP classifier ${h}`, text: `Train a neural network classifier with hidden layers ${h} (ReLU, L2 alpha=${i === 0 ? '1e-4' : '1e-3'}, early stopping).`, expr: `MLPClassifier(hidden_layer_sizes=${h}, alpha=${i === 0 ? '1e-4' : '1e-3'}, early_stopping=True, max_iter=300, random_state=0)`, imports: [sk('neural_network', 'MLPClassifier')] }),
    ),
  };
}

export const svmClassifiers: Family = {
  scaled: true,
  variants: [1, 3, 10].map((c) => ({ key: `svc-c${c}`, title: `RBF SVM (C=${c})`, text: `Use a support vector machine with an RBF kernel (C=${c}, gamma="scale"), a strong classic for pixel data.`, expr: `SVC(C=${c}, gamma='scale', probability=True, random_state=0)`, imports: [sk('svm', 'SVC')] })),
};

// ---- preprocessing and feature engineering (for scale-sensitive families) ---------------------

export const NONE: Part = { key: 'none', title: '', text: '', expr: '', imports: [] };

export const tabularPrep: Part[] = [
  { key: 'std', title: 'standardized', text: 'Standardize every feature to zero mean and unit variance first.', expr: 'StandardScaler()', imports: [sk('preprocessing', 'StandardScaler')] },
  { key: 'quantile', title: 'quantile-normalized', text: 'Map every feature through a quantile transform to a normal distribution first, taming skew and outliers.', expr: "QuantileTransformer(output_distribution='normal', n_quantiles=200, random_state=0)", imports: [sk('preprocessing', 'QuantileTransformer')] },
  { key: 'robust', title: 'robust-scaled', text: 'Scale every feature by its median and interquartile range first, so outliers do not dominate.', expr: 'RobustScaler()', imports: [sk('preprocessing', 'RobustScaler')] },
];

export const tabularFeatures: Part[] = [
  NONE,
  { key: 'spline', title: 'spline features', text: 'Expand each feature into cubic B-spline basis functions (5 knots) so the model can fit non-linear effects.', expr: 'SplineTransformer(n_knots=5, degree=3)', imports: [sk('preprocessing', 'SplineTransformer')] },
  { key: 'nystroem', title: 'RBF kernel features', text: 'Add an approximate RBF kernel feature map (Nystroem, 300 components) to capture interactions.', expr: "Nystroem(kernel='rbf', n_components=300, random_state=0)", imports: [sk('kernel_approximation', 'Nystroem')] },
  { key: 'poly2', title: 'pairwise interactions', text: 'Add all pairwise products of features (degree-2 interactions) so the model sees feature combinations.', expr: 'PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)', imports: [sk('preprocessing', 'PolynomialFeatures')] },
  { key: 'kbins', title: 'binned one-hot features', text: 'Discretize each feature into 8 quantile bins, one-hot encoded, to model step-like effects.', expr: "KBinsDiscretizer(n_bins=8, encode='onehot', strategy='quantile')", imports: [sk('preprocessing', 'KBinsDiscretizer')] },
];

export const imagePrep: Part[] = [NONE, tabularPrep[0]!];

export const imageFeatures: Part[] = [
  NONE,
  { key: 'pca20', title: 'PCA 20', text: 'Compress the pixels to their 20 leading principal components, keeping only the coarse shape.', expr: 'PCA(n_components=20, random_state=0)', imports: [sk('decomposition', 'PCA')] },
  { key: 'pca40', title: 'PCA 40', text: 'Project the pixels onto their 40 leading principal components to denoise and speed up training.', expr: 'PCA(n_components=40, random_state=0)', imports: [sk('decomposition', 'PCA')] },
  { key: 'pca100w', title: 'whitened PCA 100', text: 'Project the pixels onto 100 whitened principal components (decorrelated, unit variance).', expr: 'PCA(n_components=100, whiten=True, random_state=0)', imports: [sk('decomposition', 'PCA')] },
  { key: 'nystroem800', title: 'RBF kernel features', text: 'Map the pixels through an approximate RBF kernel (Nystroem, 800 components) before a linear model.', expr: "Nystroem(kernel='rbf', n_components=800, random_state=0)", imports: [sk('kernel_approximation', 'Nystroem')] },
];

/** Extra axis for RMSLE: fit on log1p(y), since the metric is an error on that scale. */
export const logTarget: Part = {
  key: 'log1p',
  title: 'log target',
  text: 'Fit on log1p of the target and invert with expm1, since RMSLE measures errors on the log scale.',
  expr: 'TransformedTargetRegressor(regressor={inner}, func=np.log1p, inverse_func=np.expm1)',
  imports: ['import numpy as np', sk('compose', 'TransformedTargetRegressor')],
};

/**
 * Extra axis for forecasts whose features come from a date column: calendar terms and a quadratic
 * trend added to the features' DataFrame (`{t}` is the starter's datetime variable). A straight-line
 * trend misses both the season and an accelerating trend.
 */
const calendarTerms: Part[] = [
  {
    key: 'annual',
    title: 'annual seasonality',
    text: 'Add annual seasonality as features: sine and cosine of the day of the year.',
    expr: '"doy_sin": np.sin(2 * np.pi * {t}.dt.dayofyear / 365.25), "doy_cos": np.cos(2 * np.pi * {t}.dt.dayofyear / 365.25), ',
    imports: ['import numpy as np'],
  },
  {
    key: 'annual2',
    title: 'two seasonal harmonics',
    text: 'Model the seasonal cycle with two Fourier harmonics of the day of the year (periods of 12 and 6 months).',
    expr: '"doy_sin": np.sin(2 * np.pi * {t}.dt.dayofyear / 365.25), "doy_cos": np.cos(2 * np.pi * {t}.dt.dayofyear / 365.25), "doy_sin2": np.sin(4 * np.pi * {t}.dt.dayofyear / 365.25), "doy_cos2": np.cos(4 * np.pi * {t}.dt.dayofyear / 365.25), ',
    imports: ['import numpy as np'],
  },
  {
    key: 'month',
    title: 'month-of-year dummies',
    text: 'Add one indicator feature per calendar month so each month gets its own seasonal offset.',
    expr: '**{f"month_{m}": ({t}.dt.month == m).astype(float) for m in range(1, 13)}, ',
    imports: [],
  },
];

const quadraticTrend: Part = {
  key: 'quad',
  title: 'quadratic trend',
  text: 'Add the squared decimal year as a feature so the trend can bend (accelerating growth).',
  // Centred (at 2000) so the square is not nearly collinear with the linear trend, which ridge would shrink away.
  expr: '"year_sq": ({t}.dt.year - 2000 + {t}.dt.dayofyear / 365.25) ** 2, ',
  imports: [],
};

export const seasonal: Part[] = [
  ...calendarTerms,
  quadraticTrend,
  ...calendarTerms.map((c) => ({
    key: `${c.key}-quad`,
    title: `${c.title} + ${quadraticTrend.title}`,
    text: `${c.text} ${quadraticTrend.text}`,
    expr: `${c.expr}${quadraticTrend.expr}`,
    imports: c.imports,
  })),
];

// ---- text --------------------------------------------------------------------------------------

export const vectorizers: Part[] = [
  ['tfidf-12', 'word 1–2-gram TF-IDF', 'Use word unigrams and bigrams with sublinear TF-IDF (min_df=2).', "TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)"],
  ['tfidf-13', 'word 1–3-gram TF-IDF', 'Use word 1–3-grams TF-IDF capped at 100k features to catch short phrases.', "TfidfVectorizer(ngram_range=(1, 3), min_df=2, max_features=100000, sublinear_tf=True)"],
  ['char-25', 'char 2–5-gram TF-IDF', 'Use character 2–5-grams within word boundaries, robust to misspellings and word forms.', "TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), min_df=2, sublinear_tf=True)"],
  ['char-36', 'char 3–6-gram TF-IDF', 'Use character 3–6-grams (char_wb, max 200k features) for sub-word patterns.', "TfidfVectorizer(analyzer='char_wb', ngram_range=(3, 6), min_df=3, max_features=200000, sublinear_tf=True)"],
  ['tfidf-stop', 'unigram TF-IDF without stop words', 'Drop English stop words and keep unigram TF-IDF with accents stripped.', "TfidfVectorizer(stop_words='english', strip_accents='unicode', min_df=2, sublinear_tf=True)"],
  ['count-bin', 'binary bag of 1–2-grams', 'Use binary presence of word 1–2-grams instead of frequencies.', "CountVectorizer(ngram_range=(1, 2), min_df=2, binary=True)"],
  ['tfidf-df', 'filtered 1–2-gram TF-IDF', 'Ignore terms in over 90% or in fewer than 3 documents, word 1–2-grams, unicode-stripped.', "TfidfVectorizer(ngram_range=(1, 2), min_df=3, max_df=0.9, strip_accents='unicode')"],
  ['tfidf-case', 'case-sensitive TF-IDF', 'Keep case (lowercase=False) in word 1–2-gram TF-IDF so shouting and names count.', "TfidfVectorizer(ngram_range=(1, 2), min_df=2, lowercase=False, sublinear_tf=True)"],
].map(([key, title, text, expr]): Part => ({ key: key!, title: title!, text: text!, expr: expr!, imports: [sk('feature_extraction.text', expr!.slice(0, expr!.indexOf('(')))] }));

export const textClassifiers: Part[] = [
  ...logisticClassifiers(true).variants,
  { key: 'logreg-c3', title: 'Logistic regression (C=3)', text: 'Use logistic regression with weaker regularisation C=3, usual for sparse text.', expr: 'LogisticRegression(C=3, max_iter=2000)', imports: [sk('linear_model', 'LogisticRegression')] },
  ...[0.1, 0.5].map((a) => ({ key: `mnb-a${a}`, title: `Multinomial naive Bayes (alpha=${a})`, text: `Use multinomial naive Bayes with additive smoothing alpha=${a}, fast and strong on short texts.`, expr: `MultinomialNB(alpha=${a})`, imports: [sk('naive_bayes', 'MultinomialNB')] })),
  { key: 'cnb', title: 'Complement naive Bayes', text: 'Use complement naive Bayes (alpha=0.3), more robust than multinomial NB to class imbalance.', expr: 'ComplementNB(alpha=0.3)', imports: [sk('naive_bayes', 'ComplementNB')] },
  ...['1e-5', '1e-4'].map((a) => ({ key: `sgd-mh-${a}`, title: `SGD modified Huber (alpha=${a})`, text: `Train a linear classifier by SGD with the modified Huber loss (alpha=${a}), an SVM-like margin with probabilities.`, expr: `SGDClassifier(loss='modified_huber', alpha=${a}, max_iter=50, random_state=0)`, imports: [sk('linear_model', 'SGDClassifier')] })),
  { key: 'svm-cal', title: 'Calibrated linear SVM', text: 'Use a linear SVM (C=0.5) with sigmoid-calibrated probabilities from 3-fold cross-validation.', expr: 'CalibratedClassifierCV(LinearSVC(C=0.5), cv=3)', imports: [sk('calibration', 'CalibratedClassifierCV'), sk('svm', 'LinearSVC')] },
];

export const textFeatures: Part[] = [
  NONE,
  { key: 'chi2-50', title: 'chi² top half', text: 'Keep only the 50% of terms with the highest chi-squared association with the label.', expr: 'SelectPercentile(chi2, percentile=50)', imports: [sk('feature_selection', 'SelectPercentile'), sk('feature_selection', 'chi2')] },
];
