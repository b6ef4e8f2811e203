"""Small scraped-page fixtures shared by the deploy, Parquet and backfill
tests: distinct English stories long enough to publish, helpers that write
them as JSON Lines (gzip by extension), and a reader of a backfill's day."""

import gzip
import json

_TOPICS = (
  (
    'tram',
    'The council voted on Monday to extend the tram line to the new '
    'hospital, a project that residents of the eastern districts have '
    'discussed for more than ten years.',
  ),
  (
    'storm',
    'Forecasters warned that the storm approaching the northern '
    'coast could bring strong gusts and heavy rain to the harbour towns '
    'overnight.',
  ),
  (
    'final',
    'A header in the final minute of extra time gave the '
    'second-division side the cup on Sunday, after the league leaders had '
    'dominated the match.',
  ),
  (
    'budget',
    'The finance minister presented a budget that raises spending '
    'on schools and clinics while promising to cut the deficit within '
    'three years.',
  ),
  (
    'museum',
    'The city museum reopened its modern art wing after a two-year '
    'renovation, with a festival of music and film planned for the '
    'weekend.',
  ),
  (
    'harvest',
    'Farmers in the river valley began the grape harvest two weeks '
    'early after a dry and unusually warm summer that worried the local '
    'cooperatives.',
  ),
)


def story(name: str) -> str:
  """A body of about 90 words about one subject, different from the others."""
  for key, lead in _TOPICS:
    if key == name:
      return ' '.join('%s Report %d from the %s desk.' % (lead, i, key) for i in range(3))
  raise KeyError(name)


def page(name: str, host: str = 'news.example', **fields) -> dict:
  """A scraped page record about `name`."""
  record = {'url': 'https://%s/%s' % (host, name), 'title': name.title(), 'text': story(name)}
  record.update(fields)
  return record


def to_jsonl(records) -> bytes:
  """JSON Lines; a str record is written as is (e.g. a malformed line)."""
  return ''.join((r if isinstance(r, str) else json.dumps(r)) + '\n' for r in records).encode(
    'utf-8'
  )


def jsonl_bytes(path: str, records) -> bytes:
  """What a file named `path` holds: gzip when it ends in .gz."""
  data = to_jsonl(records)
  return gzip.compress(data, mtime=0) if path.endswith('.gz') else data


def write_jsonl(path, records) -> None:
  with open(path, 'wb') as f:
    f.write(jsonl_bytes(str(path), records))


OUTPUTS = ('articles', 'duplicates', 'rejected', 'dead_letter')


def read_day(output, day: str) -> dict:
  """A backfill's day under `output` (a pathlib folder): each output's
  records (in a stable order) and the day's summary."""
  out = {}
  for name in OUTPUTS:
    records = []
    for path in sorted((output / name / ('dt=' + day)).glob('part-*')):
      opener = gzip.open if path.suffix == '.gz' else open
      with opener(path, 'rt', encoding='utf-8') as f:
        records += [json.loads(line) for line in f if line.strip()]
    out[name] = sorted(records, key=lambda r: json.dumps(r, sort_keys=True))
  out['summary'] = json.loads((output / 'summary' / ('dt=' + day) / 'summary.json').read_text())
  return out
