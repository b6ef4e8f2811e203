"""The extraction votes on main text alone (before cleaning), fast.

Each extractor runs once per scrapinghub-dev page; every vote of
transforms.text.page.MODES and benchmarks.quality.CANDIDATE_VOTES is then
scored at shares 0.5/0.7/0.9, cross-validated with the quality benchmark's
folds by site (the share chosen on the other folds). CPU per mode:
benchmarks/quality.py --only modes.

  .venv/bin/python benchmarks/vote_variants.py [--data ../shared/data]
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from benchmarks.quality import (  # noqa: E402
  CANDIDATE_VOTES,
  cross_validated,
  f1_scores,
  scrapinghub_pages,
  site_folds,
  token_match,
  trafilatura_alone,
)
from configs.loading import load_config  # noqa: E402
from transforms.text import page as page_text  # noqa: E402
from transforms.text import vote  # noqa: E402

SHARES = (0.5, 0.7, 0.9)


def run(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data', default=os.path.join(ROOT, '..', 'shared', 'data'))
  parser.add_argument('--folds', type=int, default=5)
  args = parser.parse_args(argv)
  pages = scrapinghub_pages(os.path.join(args.data, 'extraction', 'scrapinghub-dev'), None)
  extracted = []
  for p in pages:
    tree = page_text.parse_page(p['html'])
    extracted.append(
      {
        False: page_text.trafilatura_text(tree, p['url'], 'balanced', 200, False),
        True: page_text.trafilatura_text(tree, p['url'], 'balanced', 200, True),
        'readability': vote.readability_text(tree),
        'justext': vote.justext_text(tree, p['url']),
        'resiliparse': vote.resiliparse_text(p['html']),
      }
    )
  fold_of = site_folds(pages, args.folds)

  def f1(texts):
    return f1_scores([token_match(p['gold'], t) for p, t in zip(pages, texts)])['f1']

  configured = load_config()['extract']['vote_min_share']
  print(
    '| system | all pages, share %.1f | tuned (in-fold) | held-out | share chosen per fold |'
    % configured
  )
  print('| --- | ---: | ---: | ---: | --- |')
  for name, texts in (
    ('trafilatura alone', [trafilatura_alone(p) for p in pages]),
    ('resiliparse alone', [e['resiliparse'] for e in extracted]),
  ):
    print('| %s | %.4f | %.4f | %.4f | - |' % ((name,) + (f1(texts),) * 3))
  for name, spec in list(page_text.MODES.items()) + list(CANDIDATE_VOTES.items()):
    variants = {}
    for share in SHARES:
      texts = []
      for e in extracted:
        if spec is None:
          texts.append(e[False])
          continue
        weights = [spec.lead_weight] + [1] * len(spec.others)
        voted = vote.voted_paragraphs(
          [e[spec.fallbacks]] + [e[o] for o in spec.others], spec.min_votes, share, weights
        )
        texts.append('\n\n'.join(voted))
      variants['%.1f' % share] = texts
    tuned, held_out, chosen = cross_validated(pages, variants, fold_of)
    label = 'extract.mode %s' % name if name in page_text.MODES else 'candidate: %s' % name
    print(
      '| %s | %.4f | %.4f | %.4f | %s |'
      % (label, f1(variants['%.1f' % configured]), tuned, held_out, ', '.join(chosen))
    )


if __name__ == '__main__':
  run()
