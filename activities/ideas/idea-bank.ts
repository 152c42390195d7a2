import type { Idea } from '../../core/ideas';
import type { MetricName, TaskType } from '../../core/task-schema';
import {
  type Family,
  imageFeatures,
  imagePrep,
  logTarget,
  logisticClassifiers,
  linearRegressors,
  mlpClassifiers,
  mlpRegressors,
  neighbourClassifiers,
  neighbourRegressors,
  NONE,
  type Part,
  poissonRegressors,
  seasonal,
  sk,
  svmClassifiers,
  tabularFeatures,
  tabularPrep,
  textClassifiers,
  textFeatures,
  treeFamilies,
  vectorizers,
} from './idea-parts';
import { type DateFeatures, findDateFeatures, findImportAnchor, findModelStatement, occurrences } from './python-anchors';

/**
 * The offline idea generator: banks of model families × key hyperparameters × preprocessing ×
 * feature engineering per kind of task, turned into exact `Edit Script` edits on the task's
 * starter. An idea rewrites the starter's model statement (`model = make_pipeline(…)`, found by
 * the variable the script fits) and adds the imports it needs, so everything around it (loading,
 * feature columns, validation, predict, submission) stays as it is. A starter whose model
 * statement is missing or holds steps the bank does not know (it would drop them) gets no ideas.
 */

// ---- assembling ideas --------------------------------------------------------------------------

const ESTIMATORS = new Set([
  'LinearRegression', 'Ridge', 'RidgeCV', 'Lasso', 'LassoCV', 'ElasticNet', 'BayesianRidge', 'HuberRegressor',
  'LogisticRegression', 'LogisticRegressionCV', 'RidgeClassifier', 'SGDClassifier', 'SGDRegressor',
  'PoissonRegressor', 'TweedieRegressor', 'GammaRegressor',
  'KNeighborsRegressor', 'KNeighborsClassifier', 'DecisionTreeRegressor', 'DecisionTreeClassifier',
  'RandomForestRegressor', 'RandomForestClassifier', 'ExtraTreesRegressor', 'ExtraTreesClassifier',
  'HistGradientBoostingRegressor', 'HistGradientBoostingClassifier', 'GradientBoostingRegressor', 'GradientBoostingClassifier',
  'MLPRegressor', 'MLPClassifier', 'SVC', 'SVR', 'LinearSVC', 'LinearSVR',
  'GaussianNB', 'MultinomialNB', 'ComplementNB', 'BernoulliNB', 'DummyRegressor', 'DummyClassifier',
]);
/** Steps an idea may replace: its own preprocessing and vectorizer take their place. */
const SCALERS = new Set(['StandardScaler', 'MinMaxScaler', 'MaxAbsScaler', 'RobustScaler', 'QuantileTransformer', 'PowerTransformer', 'Normalizer']);
const VECTORIZERS = new Set(['TfidfVectorizer', 'CountVectorizer', 'HashingVectorizer']);

const isClassifier = (estimator: string) => /Classifier|LogisticRegression|SVC|NB$/.test(estimator);

/** One idea = one combination of parts; the model expression is the pipeline they make. */
interface Combo {
  model: Part;
  prep: Part;
  features: Part;
  target: Part;
  vectorizer?: Part;
  season?: Part;
}

/** Every combination of the bank's axes for this starter; none if it is not a kind the bank knows. */
function combosFor(p: { taskType: TaskType; metric: MetricName; classifier: boolean; text: boolean; dated: boolean }): Combo[] {
  const grid = (families: Family[], prep: Part[], features: Part[], targets: Part[] = [NONE]): Combo[] =>
    families.flatMap((f) =>
      f.variants.flatMap((model) =>
        (f.scaled ? prep : [NONE]).flatMap((pr) => (f.scaled ? features : [NONE]).flatMap((fe) => targets.map((target) => ({ model, prep: pr, features: fe, target })))),
      ),
    );
  if (p.text !== (p.taskType === 'text-binary')) return [];
  if (p.taskType === 'text-binary') {
    if (!p.classifier) return [];
    return vectorizers.flatMap((vectorizer) => textClassifiers.flatMap((model) => textFeatures.map((features) => ({ model, prep: NONE, features, target: NONE, vectorizer }))));
  }
  if (p.taskType === 'image-multiclass' && p.classifier) {
    const trees = treeFamilies('Classifier', { gradientBoosting: false });
    return [
      ...grid([logisticClassifiers(false), neighbourClassifiers, mlpClassifiers(['(256,)', '(256, 128)']), svmClassifiers], imagePrep, imageFeatures),
      // Tree ensembles on raw pixels take minutes; on a PCA projection they fit in the script budget.
      ...trees.flatMap((f) => f.variants.flatMap((model) => [imageFeatures[1]!, imageFeatures[2]!].map((features) => ({ model, prep: NONE, features, target: NONE })))),
    ];
  }
  if (p.classifier) {
    const binary = p.taskType === 'binary';
    return [
      ...grid([logisticClassifiers(binary), neighbourClassifiers, mlpClassifiers(['(64,)', '(128, 64)'])], tabularPrep, tabularFeatures),
      ...grid(treeFamilies('Classifier', { gradientBoosting: binary }), [NONE], [NONE]),
    ];
  }
  if (p.metric === 'poisson_deviance') {
    return [
      ...grid([poissonRegressors], tabularPrep, tabularFeatures),
      ...grid(treeFamilies('Regressor', { gradientBoosting: false, hgbLoss: 'poisson' }).slice(2), [NONE], [NONE]),
    ];
  }
  const targets = p.metric === 'rmsle' ? [NONE, logTarget] : [NONE];
  const regressors = [
    ...grid([linearRegressors, neighbourRegressors, mlpRegressors], tabularPrep, tabularFeatures, targets),
    ...grid(treeFamilies('Regressor', { gradientBoosting: true }), [NONE], [NONE], targets),
  ];
  if (p.taskType !== 'forecast' || !p.dated) return regressors;
  // Calendar terms matter most with models that extrapolate the trend: pair them with the starter's own
  // model (model NONE: left as it is) and the linear family.
  const seasonalModels = [{ model: NONE, prep: NONE, features: NONE, target: NONE }, ...grid([linearRegressors], tabularPrep, [NONE])];
  return [...regressors, ...seasonal.flatMap((season) => seasonalModels.map((c) => ({ ...c, season })))];
}

function modelExpr(c: Combo): string {
  const steps = [c.vectorizer ?? NONE, c.prep, c.features, c.model].filter((s) => s !== NONE).map((s) => s.expr);
  const inner = steps.length > 1 ? `make_pipeline(${steps.join(', ')})` : steps[0]!;
  return c.target === NONE ? inner : c.target.expr.replace('{inner}', inner);
}

function comboImports(c: Combo): string[] {
  const steps = [c.vectorizer ?? NONE, c.prep, c.features, c.model].filter((s) => s !== NONE);
  return [...(steps.length > 1 ? [sk('pipeline', 'make_pipeline')] : []), ...[...steps, c.target, c.season ?? NONE].flatMap((s) => s.imports)];
}

function seasonEdit(season: Part, dates: DateFeatures) {
  return { old: dates.anchor, new: `${dates.anchor}${season.expr.replaceAll('{t}', dates.dates)}` };
}

export interface BankIdeasParams {
  source: string;
  scriptName: string;
  taskType: TaskType;
  metric: MetricName;
}

/** Every bank idea that applies to this starter, each with the exact edits implementing it. */
export function bankIdeas(p: BankIdeasParams): Idea[] {
  const statement = findModelStatement(p.source);
  const importAnchor = findImportAnchor(p.source);
  if (!statement || !importAnchor) return [];
  const estimator = statement.steps.at(-1)!;
  const others = statement.steps.slice(0, -1);
  if (!ESTIMATORS.has(estimator.name) || !others.every((s) => SCALERS.has(s.name) || VECTORIZERS.has(s.name))) return [];
  const text = others.some((s) => VECTORIZERS.has(s.name));
  const dates = findDateFeatures(p.source);
  const combos = combosFor({ taskType: p.taskType, metric: p.metric, classifier: isClassifier(estimator.name), text, dated: dates !== undefined });
  return combos.map((c) => {
    const missing = [...new Set(comboImports(c))].filter((line) => occurrences(p.source, `${line}\n`) === 0).sort();
    const edits = c.model === NONE ? [] : [{ old: statement.text, new: `${statement.lhs}${modelExpr(c)}` }];
    if (c.season && dates) edits.push(seasonEdit(c.season, dates));
    if (missing.length > 0) edits.push({ old: importAnchor, new: `${missing.join('\n')}\n${importAnchor}` });
    const parts = [c.vectorizer ?? NONE, c.model, c.prep, c.features, c.target, c.season ?? NONE].filter((s) => s !== NONE);
    return {
      id: parts.map((s) => s.key).join('+'),
      title: parts.map((s) => s.title).join(' + '),
      text: parts.map((s) => s.text).join(' '),
      source: 'bank' as const,
      edits: [{ script_name: p.scriptName, edits }],
    };
  });
}
