"""Topic classification benchmark on the BBC News set.

Cross-validated (stratified folds over the deduplicated articles) macro-F1,
accuracy and per-class F1 of newsbeam's topic model against a
baseline, plain TF-IDF + logistic regression trained on full articles, in
the same run and on the same folds. Each held-out article is scored as
published (full text), as its headline only, and as its headline and first
sentence: the short forms stand in for feed items and, lacking another
labelled publisher here, for text unlike the training set. A second model,
newsbeam's features without the short training variants, shows what the
variants buy. Then throughput, in articles per second, through the models
and through RunInference with the packaged model.

  python -m benchmarks.classify [--data ../shared/data] [--folds 5] [--seed 0]
"""

import argparse
import os
import statistics
import tempfile
import time

import apache_beam as beam
import numpy as np
from apache_beam.ml.inference.base import RunInference
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from benchmarks.bbc_news import default_data, read_bbc
from configs.loading import load_config
from transforms.topics import model as topic_model
from transforms.topics.classify import TopicModelHandler

VARIANTS = topic_model.EVALUATION_VARIANTS


def baseline(examples, max_chars):
  """The baseline: TF-IDF + logistic regression on full articles."""
  return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(
    [topic_model.article_text(e['title'], e['text'], max_chars) for e in examples],
    [e['code'] for e in examples],
  )


def cross_validate(examples, models, folds, seed, max_chars):
  """Per model and variant: per-fold macro-F1 and accuracy, pooled
  predictions; and each model's training seconds."""
  codes = np.array([e['code'] for e in examples])
  splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(examples, codes)
  folds_f1, folds_acc, pooled, seconds = {}, {}, {}, {}
  for fold, (train, test) in enumerate(splits, 1):
    train_part = [examples[i] for i in train]
    test_part = [examples[i] for i in test]
    for name, fit in models.items():
      start = time.perf_counter()
      model = fit(train_part)
      seconds[name] = seconds.get(name, 0) + time.perf_counter() - start
      for variant in VARIANTS:
        probabilities = model.predict_proba(
          topic_model.evaluation_texts(test_part, variant, max_chars)
        )
        predicted = model.classes_[probabilities.argmax(axis=1)]
        key = (name, variant)
        folds_f1.setdefault(key, []).append(f1_score(codes[test], predicted, average='macro'))
        folds_acc.setdefault(key, []).append(accuracy_score(codes[test], predicted))
        truth, got, best = pooled.setdefault(key, ([], [], []))
        truth.extend(codes[test])
        got.extend(predicted)
        best.extend(probabilities.max(axis=1))
    print('  fold %d/%d done' % (fold, folds), flush=True)
  return folds_f1, folds_acc, pooled, seconds


def calibration(truth, predicted, best, min_score, bins=10):
  """Expected calibration error of the top score (10 equal-width bins), and
  above min_score: the share of articles given a topic and its accuracy."""
  right = np.array(truth) == np.array(predicted)
  best = np.array(best)
  which = np.minimum((best * bins).astype(int), bins - 1)
  error = sum(
    abs(right[which == b].mean() - best[which == b].mean()) * (which == b).mean()
    for b in range(bins)
    if (which == b).any()
  )
  kept = best >= min_score
  return error, kept.mean(), right[kept].mean()


def articles_per_second(score, texts, repeats=3):
  best = float('inf')
  for _ in range(repeats):
    start = time.perf_counter()
    score(texts)
    best = min(best, time.perf_counter() - start)
  return len(texts) / best


def run_inference_rate(model_file, texts, classify):
  """Articles per second through a DirectRunner pipeline running
  RunInference with the model handler (pipeline start-up included)."""
  handler = TopicModelHandler(model_file, classify['min_batch_size'], classify['max_batch_size'])
  start = time.perf_counter()
  with beam.Pipeline() as p:
    _ = p | beam.Create(texts) | RunInference(handler) | beam.combiners.Count.Globally()
  return len(texts) / (time.perf_counter() - start)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument(
    '--data', default=default_data(), help='the shared data folder (default ../shared/data)'
  )
  parser.add_argument('--folds', type=int, default=5)
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args(argv)

  config = load_config()
  classify = config['classify']
  max_chars = classify['max_chars']
  index = topic_model.label_index(config['taxonomy'], classify['label_names'])
  raw = read_bbc(args.data)
  examples = topic_model.dedupe_examples(
    [{'title': r['title'], 'text': r['text'], 'code': index[r['label']]} for r in raw]
  )
  no_variants = dict(classify['training'], short_variants=False)
  models = {
    'baseline': lambda part: baseline(part, max_chars),
    'newsbeam, no short variants': lambda part: topic_model.fit_model(
      part, no_variants, max_chars, args.seed
    ),
    'newsbeam': lambda part: topic_model.fit_model(
      part, classify['training'], max_chars, args.seed
    ),
  }
  print(
    'BBC News: %d articles, %d after removing repeated texts; '
    '%d-fold stratified CV, seed %d' % (len(raw), len(examples), args.folds, args.seed)
  )
  folds_f1, folds_acc, pooled, seconds = cross_validate(
    examples, models, args.folds, args.seed, max_chars
  )

  names = list(models)
  width = 30
  print('\nmacro-F1, mean ± sd over folds (accuracy)')
  print('%-27s' % 'variant' + ''.join('%*s' % (width, n) for n in names) + '   newsbeam/baseline')
  for variant in VARIANTS:
    cells = ''.join(
      '%*s'
      % (
        width,
        '%.4f ± %.4f (%.4f)'
        % (
          statistics.mean(folds_f1[n, variant]),
          statistics.stdev(folds_f1[n, variant]),
          statistics.mean(folds_acc[n, variant]),
        ),
      )
      for n in names
    )
    ratio = statistics.mean(folds_f1['newsbeam', variant]) / statistics.mean(
      folds_f1['baseline', variant]
    )
    print('%-27s%s   %.2fx' % (variant, cells, ratio))

  codes = sorted({e['code'] for e in examples})
  print('\nper-class F1, predictions pooled over folds: baseline -> newsbeam')
  print('%-46s' % 'topic' + ''.join('%28s' % v for v in VARIANTS))
  for code in codes:
    cells = ''.join(
      '%28s'
      % (
        '%.3f -> %.3f'
        % tuple(
          f1_score(*pooled[n, v][:2], labels=[code], average=None)[0]
          for n in ('baseline', 'newsbeam')
        )
      )
      for v in VARIANTS
    )
    print('%-46s%s' % ('%s %s' % (code, config['taxonomy'][code])[:45], cells))

  print(
    '\ncalibration of the top score, pooled over folds (min_score %.2f)' % classify['min_score']
  )
  print('%-30s%-27s%8s%12s%12s' % ('model', 'variant', 'ECE', 'topic given', 'accuracy'))
  for name in names:
    for variant in VARIANTS:
      error, given, accuracy = calibration(*pooled[name, variant], classify['min_score'])
      print('%-30s%-27s%8.4f%11.1f%%%11.1f%%' % (name, variant, error, 100 * given, 100 * accuracy))

  print(
    '\ntraining seconds per fold: '
    + ', '.join('%s %.1f' % (n, seconds[n] / args.folds) for n in names)
  )
  texts = topic_model.evaluation_texts(examples, 'full text', max_chars)
  shipped = baseline(examples, max_chars)
  with tempfile.TemporaryDirectory() as tmp:
    model_file = os.path.join(tmp, 'model.joblib')
    artifact, _ = topic_model.train(examples, classify, 0, args.seed, trained_on='bbc_news.csv')
    with open(model_file, 'wb') as f:
      topic_model.save_model(artifact, f)
    with open(model_file, 'rb') as f:
      model = topic_model.TopicModel.load(f)
    rates = {
      'baseline, predict_proba': articles_per_second(shipped.predict_proba, texts),
      'newsbeam, TopicModel.scores': articles_per_second(model.scores, texts),
      'newsbeam, RunInference (DirectRunner, 1 worker)': run_inference_rate(
        model_file, texts, classify
      ),
    }
    size = os.path.getsize(model_file)
  print('\nthroughput on %d full articles (articles/second, 1 process):' % len(texts))
  for name, rate in rates.items():
    print('  %-50s %8.0f' % (name, rate))
  print(
    '  newsbeam/baseline (model only): %.2fx'
    % (rates['newsbeam, TopicModel.scores'] / rates['baseline, predict_proba'])
  )
  print('model file: %.1f MB' % (size / 1e6))


if __name__ == '__main__':
  main()
