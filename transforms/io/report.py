"""What a person sees of a run: report.html beside summary.json, and
progress lines while a long run works.

``render_report`` turns the run's summary into one self-contained HTML page:
bars are plain HTML and CSS (no script, no external file: the report opens
offline, and its Content-Security-Policy forbids scripts), and every name
from the data is escaped, since dead-letter reasons quote the inputs.
"""

import html
from typing import Any, Dict, Iterable, List, Optional, Tuple

from transforms import schema
from transforms.io import progress

REPORT_FILE = 'report.html'
# Sections of the summary shown as bar charts, with their headings.
SECTIONS = (
  ('languages', 'Languages of the articles'),
  ('topics', 'Topics of the articles'),
  ('duplicate_rules', 'Duplicates by rule'),
  ('rejected_reasons', 'Rejected by reason'),
  ('dead_letter_stages', 'Dead letters by stage'),
  ('dead_letter_reasons', 'Top dead-letter reasons'),
)
TOP = 12  # rows per chart; the rest are summed in one "other" row

_STYLE = '''
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 58em;
       color: #1d2330; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 .5em; }
.lede { color: #555; margin-top: 0; }
.chart { display: grid; grid-template-columns: minmax(8em, 40%) minmax(6em, 1fr) 4em;
         gap: .3em .8em; align-items: center; }
.label { overflow-wrap: anywhere; }
.track { background: #eef0f4; border-radius: 3px; height: 1.2em; }
.bar { height: 100%; border-radius: 3px; min-width: 2px; }
.count { text-align: right; font-variant-numeric: tabular-nums; }
.articles { background: #2f7d4f; } .duplicates { background: #8a6bbf; }
.rejected { background: #d08a1e; } .dead_letter { background: #c0392b; }
.input { background: #3b6fb6; } .other { background: #7a8699; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 2.5em; }
@media (max-width: 50em) { .grid { grid-template-columns: 1fr; } }
.empty { color: #777; font-style: italic; }
'''


def _bars(rows: Iterable[Tuple[str, int, str]], scale: int) -> str:
  """Rows of (label, count, css class) as a bar chart; `scale` is 100%."""
  out = ['<div class="chart">']
  for label, count, css in rows:
    width = 100.0 * count / scale if scale else 0.0
    out.append(
      '<div class="label">%s</div><div class="track"><div class="bar %s" '
      'style="width: %.1f%%"></div></div><div class="count">%d</div>'
      % (html.escape(label), css, width, count)
    )
  out.append('</div>')
  return ''.join(out)


def funnel_rows(summary: Dict[str, Any]) -> List[Tuple[str, int, str]]:
  """From all records to articles: each step takes one output away."""
  outputs = summary['outputs']
  total = summary.get('total', sum(outputs.values()))
  read = total - outputs.get(schema.DEAD_LETTER, 0)
  kept = read - outputs.get(schema.REJECTED, 0)
  return [
    ('records in (inputs, one per story)', total, 'input'),
    ('read and extracted (minus dead letters)', read, 'input'),
    ('kept by the filters (minus rejected)', kept, 'input'),
    ('articles (minus duplicates)', outputs.get(schema.ARTICLES, 0), 'articles'),
  ]


def _section_rows(values: Dict[str, int], names: Dict[str, str]) -> List[Tuple[str, int, str]]:
  ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
  rows = [('%s (%s)' % (names[k], k) if k in names else k, v, 'other') for k, v in ranked[:TOP]]
  rest = sum(v for _, v in ranked[TOP:])
  if rest:
    rows.append(('%d more' % (len(ranked) - TOP), rest, 'other'))
  return rows


def render_report(
  summary: Dict[str, Any],
  taxonomy: Optional[Dict[str, str]] = None,
  title: str = 'newsbeam run report',
) -> str:
  """The run's summary as a self-contained HTML page."""
  outputs = summary['outputs']
  total = summary.get('total', sum(outputs.values()))
  parts = [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    '<meta http-equiv="Content-Security-Policy" content="default-src '
    "'none'; style-src 'unsafe-inline'\">",
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>%s</title><style>%s</style></head><body>' % (html.escape(title), _STYLE),
    '<h1>%s</h1>' % html.escape(title),
    '<p class="lede">%d records: %s.</p>'
    % (
      total,
      ', '.join(
        '%d %s' % (outputs.get(name, 0), name.replace('_', ' ')) for name in schema.OUTPUTS
      ),
    ),
    '<section id="funnel"><h2>From inputs to articles</h2>',
    _bars(funnel_rows(summary), total),
    '</section>',
    '<section id="outputs"><h2>Where every record ended</h2>',
    _bars([(name.replace('_', ' '), outputs.get(name, 0), name) for name in schema.OUTPUTS], total),
    '</section>',
    '<div class="grid">',
  ]
  for section, heading in SECTIONS:
    values = summary.get(section) or {}
    names = taxonomy if section == 'topics' and taxonomy else {}
    parts.append('<section id="%s"><h2>%s</h2>' % (section, heading))
    if values:
      rows = _section_rows(values, names)
      parts.append(_bars(rows, max(count for _, count, _ in rows)))
    else:
      parts.append('<p class="empty">none</p>')
    parts.append('</section>')
  parts.append('</div></body></html>\n')
  return ''.join(parts)


class ProgressLog:
  """Counts what a worker has done for the launcher's progress line
  (``progress.ProgressReport``); `seconds` 0 turns it off."""

  def __init__(self, seconds: float, what: str = 'records extracted'):
    self._on = bool(seconds)

  def count(self, outcome: str) -> None:
    if self._on:
      progress.count(progress.EXTRACTED)
