"""The site boilerplate stage: learn each site's template lines over the
whole input, then cut them (``SiteBoilerplate``, ``transforms/text/boilerplate.py``,
says which lines and why)."""

from typing import Any, Dict, Iterable, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import schema
from transforms.dead_letters import RecordStageFn
from transforms.text.boilerplate import SiteBoilerplate, is_site_line, page_lines

STAGE = 'site_boilerplate'


def _line_keys(article: Dict[str, Any]) -> Iterable[Tuple[Tuple[str, str], int]]:
  if article.get('domain'):
    for line in page_lines(article):
      yield (article['domain'], line), 1


def _domain_key(article: Dict[str, Any]) -> Iterable[Tuple[str, int]]:
  if article.get('domain'):
    yield article['domain'], 1


class CutSiteBoilerplate(beam.PTransform):
  """Cleaned records -> the same records with their sites' template lines
  cut, learned over the whole input (a side input); dead letters tagged."""

  def __init__(self, boilerplate_config: Dict[str, Any]):
    super().__init__()
    self._config = boilerplate_config

  def expand(self, articles):
    config = self._config
    domain_pages = (
      articles
      | 'PagesPerDomain' >> beam.FlatMap(_domain_key)
      | 'CountPages' >> beam.CombinePerKey(sum)
    )
    repeated = (
      articles
      | 'LinesPerPage' >> beam.FlatMap(_line_keys)
      | 'CountLines' >> beam.CombinePerKey(sum)
      | 'KeepSiteLines'
      >> beam.Filter(
        lambda kv, pages: is_site_line(kv[1], pages[kv[0][0]], config),
        pages=beam.pvalue.AsDict(domain_pages),
      )
    )
    return articles | 'CutSiteLines' >> beam.ParDo(
      _CutFn(config), repeated=beam.pvalue.AsDict(repeated)
    ).with_outputs(schema.DEAD_LETTER, main='articles')


class _CutFn(RecordStageFn):
  STAGE = STAGE

  def __init__(self, config):
    super().__init__()
    self._config = config
    self._cut = Metrics.counter(STAGE, 'lines_cut')

  def outputs(self, article, repeated):
    out = SiteBoilerplate(repeated, self._config).cut(article)
    self._cut.inc(len(out['removed']) - len(article.get('removed') or []))
    yield out
