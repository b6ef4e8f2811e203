"""Plain helpers shared by the tests (pytest fixtures live in conftest.py):

- paths: the repository root and tests/fixtures;
- scraped pages of our own making and writers of JSON Lines;
- readers of a run's outputs (part files of each output, JSON Lines plain or
  gzipped, or Parquet, and its summary.json);
- a loopback HTTP server with programmable routes, and a free local port;
- texts shared by tests of more than one module (stories, language samples,
  the topic fixture's labels), and the Dataflow dry-run options.
"""

import gzip
import http.server
import io
import json
import os
import random
import socket
import threading

import pyarrow.parquet as pq

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS)
FIXTURES = os.path.join(TESTS, 'fixtures')

# --- Scraped pages of our own making -----------------------------------------

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


_WORDS = (
  'council harbour market school river station bridge library festival '
  'minister budget hospital tram ferry storm harvest museum league final '
  'court police village farmers traders parents pupils doctors nurses '
  'engineers drivers workers residents officials judges scientists '
  'announced warned reported opened closed delayed approved rejected '
  'promised expected described confirmed repaired extended reduced raised '
  'new old northern southern eastern western early late local national '
  'quiet busy dry warm cold heavy strong small large second third'
).split()


def distinct_story(n: int, words: int = 120) -> str:
  """A body of `words` words drawn at random (seeded by `n`): stories of
  different `n` share no run of words, so none is a duplicate of another."""
  rng = random.Random(n)
  sentences, sentence = [], []
  for _ in range(words):
    sentence.append(rng.choice(_WORDS))
    if len(sentence) == 12:
      sentences.append(' '.join(sentence).capitalize() + '.')
      sentence = []
  return ' '.join(sentences + ([' '.join(sentence).capitalize() + '.'] if sentence else []))


def distinct_story_pages(folder, name: str, numbers) -> str:
  """A JSON Lines file `name` under `folder` of scraped pages, one distinct
  story (``distinct_story``) per number; -> its path."""
  path = folder / name
  write_jsonl(
    path, [{'url': 'https://city.example/%d' % n, 'text': distinct_story(n)} for n in numbers]
  )
  return str(path)


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


# --- A run's outputs -----------------------------------------------------------

OUTPUTS = ('articles', 'duplicates', 'rejected', 'dead_letter')


def parse_part(name: str, data: bytes) -> list:
  """The records of a part file named `name` holding `data`: JSON Lines,
  gzipped when the name ends in .gz, or Parquet."""
  if name.endswith('.parquet'):
    return pq.read_table(io.BytesIO(data)).to_pylist()
  return [json.loads(line) for line in part_lines(name, data)]


def part_lines(name: str, data: bytes) -> list:
  """The non-blank lines of a JSON Lines part file (gzip by name), as a text
  file gives them: split at line ends only, not at the other characters
  str.splitlines() breaks at (U+2028 and the like, written as is in records)."""
  if name.endswith('.gz'):
    data = gzip.decompress(data)
  return [line for line in io.TextIOWrapper(io.BytesIO(data), encoding='utf-8') if line.strip()]


def part_files(folder) -> list:
  """The part-* files of one output folder (str or pathlib), sorted; none
  when the folder is missing."""
  folder = str(folder)
  if not os.path.isdir(folder):
    return []
  return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.startswith('part-'))


def read_part(path) -> list:
  """The records of one part file."""
  with open(path, 'rb') as f:
    return parse_part(str(path), f.read())


def read_records(folder) -> list:
  """The records of every part file of one output folder, file by file."""
  return [r for path in part_files(folder) for r in read_part(path)]


def read_outputs(output, *, partition=None, summary=True, sort=False, lines=False) -> dict:
  """A run's outputs under `output` (str or pathlib): {output name: records}
  for each of OUTPUTS, and under 'summary' the run's summary.json.

  partition: a partition folder inside each output (e.g. 'dt=2022-04-02' for
    a backfill's day, whose summary is then summary/<partition>/summary.json).
  summary: False where the test does not read the summary.
  sort: records in a stable order (by their JSON) instead of file order.
  lines: each record's JSON line as written, instead of the parsed record.
  """
  output = str(output)
  out = {}
  for name in OUTPUTS:
    folder = os.path.join(output, name, partition) if partition else os.path.join(output, name)
    if lines:
      records = []
      for path in part_files(folder):
        with open(path, 'rb') as f:
          records += part_lines(path, f.read())
      out[name] = sorted(records) if sort else records
    else:
      records = read_records(folder)
      out[name] = sorted(records, key=lambda r: json.dumps(r, sort_keys=True)) if sort else records
  if summary:
    parts = ['summary', partition] if partition else []
    with open(os.path.join(output, *parts, 'summary.json'), encoding='utf-8') as f:
      out['summary'] = json.load(f)
  return out


def files_under(folder) -> dict:
  """Every file under `folder` (str or pathlib): {relative path: bytes}."""
  folder = str(folder)
  found = {}
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      with open(path, 'rb') as f:
        found[os.path.relpath(path, folder)] = f.read()
  return found


def read_day(output, day: str) -> dict:
  """A backfill's day under `output`: each output's records (in a stable
  order) and the day's summary."""
  return read_outputs(output, partition='dt=' + day, sort=True)


# --- A loopback HTTP server ------------------------------------------------------


def free_port() -> int:
  """A TCP port on 127.0.0.1 that nothing listens on (now)."""
  with socket.socket() as probe:
    probe.bind(('127.0.0.1', 0))
    return probe.getsockname()[1]


class RouteHandler(http.server.BaseHTTPRequestHandler):
  routes = {}

  def do_GET(self):
    with self.server.lock:
      self.server.requests.append((self.path, dict(self.headers)))
    route = self.routes.get(self.path)
    if route is None:
      self.send_error(404)
    elif callable(route):
      route(self)
    else:
      self.respond(*route)

  def respond(self, status, headers, body):
    self.send_response(status)
    for name, value in headers.items():
      self.send_header(name, value)
    self.send_header('Content-Length', str(len(body)))
    self.end_headers()
    self.wfile.write(body)

  def log_message(self, *args):
    pass


class LoopbackServer(http.server.ThreadingHTTPServer):
  daemon_threads = True
  block_on_close = False  # a fault route may still be sleeping or streaming

  def handle_error(self, request, client_address):
    pass  # clients hang up on purpose (timeouts, size caps)


def start_http_server() -> LoopbackServer:
  """A real HTTP server on 127.0.0.1, serving in a thread; see the
  `http_server` fixture in conftest.py. Stop it with stop_http_server."""
  handler = type('Handler', (RouteHandler,), {'routes': {}})
  server = LoopbackServer(('127.0.0.1', 0), handler)
  server.routes = handler.routes
  server.url = lambda path: 'http://127.0.0.1:%d%s' % (server.server_port, path)
  server.lock = threading.Lock()
  server.requests = []
  server.count = lambda path: sum(1 for p, _ in server.requests if p == path)
  thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
  thread.start()
  return server


def stop_http_server(server: LoopbackServer) -> None:
  server.shutdown()
  server.server_close()


# --- Texts shared by tests of several modules ---------------------------------

# Three paragraphs of English, for the language detectors.
ENGLISH = [
  'The council voted on Monday to extend the tram line to the new hospital, '
  'a project that has been discussed for more than ten years.',
  'Construction is expected to start next spring, and the first trams '
  'should run by the end of 2027, the mayor told reporters.',
  'Residents of the eastern districts have long complained that buses are '
  'slow and crowded during the morning rush hour.',
]

# Short local stories, and a page holding several of them as <article>s.
TRAM = (
  'The council voted on Monday to extend the tram line to the new '
  'hospital, a project that has been discussed for more than ten years '
  'and will cost about forty million.'
)
LIBRARY = (
  'The central library will open on Sundays from next month, after '
  'readers collected more than four thousand signatures asking for '
  'longer opening hours at weekends.'
)
BRIDGE = (
  'The old bridge over the river will close for six weeks of repairs '
  'in the summer, and buses will take the long way round through the '
  'industrial estate.'
)


def story_html(headline, *paragraphs):
  """One story as an <article> element: its headline and paragraphs."""
  return '<article><h2>%s</h2>%s</article>' % (
    headline,
    ''.join('<p>%s</p>' % p for p in paragraphs),
  )


def multi_story_page(*articles):
  """A news page with a title, navigation and footer around `articles`."""
  return (
    '<html><head><title>City news today | City News</title></head><body>'
    '<nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>%s'
    '<footer>Contact us</footer></body></html>' % ''.join(articles)
  )


# The topic classifier's training fixture: 36 short news items invented for
# the tests (sport, business, science and technology, weather).
LABELLED = os.path.join(FIXTURES, 'topics.jsonl')
SPORT, BUSINESS, TECH, WEATHER = (
  'medtop:15000000',
  'medtop:04000000',
  'medtop:13000000',
  'medtop:17000000',
)

# New items, not in the fixture.
UNSEEN = {
  SPORT: 'Striker scores twice as the club wins the cup final',
  BUSINESS: 'Bank shares fall as profits and revenue drop',
  WEATHER: 'Forecasters warn of snow and frost this weekend',
}


# --- Dataflow dry runs ----------------------------------------------------------

# The options of a Dataflow job that is built but not submitted: no network,
# no credentials. Batch runs add --setup_file, streaming runs --streaming.
DATAFLOW_DRY_RUN_ARGS = [
  '--runner',
  'DataflowRunner',
  '--project',
  'newsbeam-test',
  '--region',
  'us-central1',
  '--temp_location',
  'gs://newsbeam-test/tmp',
  '--dry_run=True',
  '--no_auth',
  '--sdk_location',
  'container',
]


# --- Web archives of our own making ----------------------------------------------


def story_page(name: str, published: str = None, charset: str = 'utf-8') -> bytes:
  """A news page about `name` as a server sends it, with its meta charset
  and, when given, its article:published_time."""
  meta = '<meta property="article:published_time" content="%s">' % published if published else ''
  return (
    '<html><head><meta charset="%s">%s<title>%s</title></head><body>'
    '<article><h1>%s</h1><p>%s</p></article></body></html>'
    % (charset, meta, name.title(), name.title(), story(name))
  ).encode(charset)


def write_warc(path, records, gzip_records: bool = True) -> None:
  """A WARC file written with warcio (gzipped per record, as Common Crawl
  writes them, unless told otherwise). `records`: (type, url, fields) with
  fields `status` (default 200), `headers` (HTTP headers), `body` (bytes,
  as sent on the wire), `date` (WARC-Date)."""
  from warcio.statusandheaders import StatusAndHeaders
  from warcio.warcwriter import WARCWriter

  with open(str(path), 'wb') as f:
    writer = WARCWriter(f, gzip=gzip_records)
    writer.write_record(writer.create_warcinfo_record(os.path.basename(str(path)), {'x': 'y'}))
    for kind, url, fields in records:
      warc_headers = {'WARC-Date': fields.get('date', '2024-03-02T10:00:00Z')}
      body = fields.get('body', b'')
      http = None
      if kind in ('response', 'revisit'):
        status = fields.get('status', 200)
        http = StatusAndHeaders(
          '%d %s' % (status, 'OK' if status == 200 else 'Other'),
          list(fields.get('headers', {'Content-Type': 'text/html'}).items()),
          protocol='HTTP/1.1',
        )
      elif kind == 'request':
        http = StatusAndHeaders('GET / HTTP/1.1', [('Host', 'x')], is_http_request=True)
      if kind == 'revisit':
        record = writer.create_revisit_record(
          url, 'sha1:AAAA', url, '2024-03-01T10:00:00Z', http_headers=http
        )
        record.rec_headers.replace_header('WARC-Date', warc_headers['WARC-Date'])
      else:
        record = writer.create_warc_record(
          url,
          kind,
          payload=io.BytesIO(body),
          http_headers=http,
          warc_headers_dict=warc_headers,
          length=len(body) if http is None else None,
        )
      writer.write_record(record)


# Two stories as paragraphs, for dedup: a rail operator's cuts, and a dig.
RAIL_CUTS = [
  'The regional rail operator will cut the number of evening trains on the '
  'coast line from next month, its director told councillors on Tuesday.',
  'She said that fewer than forty passengers a night used the last three '
  'services, and that the savings would pay for new carriages.',
  'Councillors from the three towns on the line said the cuts would leave '
  'shift workers at the port with no way home after ten o\'clock.',
  'The operator has promised to review the timetable after six months and '
  'to publish the passenger counts for every station on the line.',
  'A petition against the cuts has gathered more than four thousand '
  'signatures since it was started by a nurse at the harbour clinic.',
  'The transport committee will debate the plan at its next meeting, which '
  'is open to the public and will be streamed on the council website.',
]
CHAPEL_DIG = [
  'Archaeologists working on the site of the new library have found the '
  'foundations of a medieval chapel under the old car park.',
  'The team said the stones showed at least two phases of building, the '
  'earliest probably from the twelfth century.',
  'Work on the library will pause for six weeks while the remains are '
  'recorded, and the city expects the opening to slip to the autumn.',
  'Local historians had long suspected that a chapel stood near the river '
  'crossing, but no trace of it had ever been found before.',
  'Volunteers will be able to join the dig on weekends, and finds will be '
  'shown at the museum once they have been cleaned and catalogued.',
  'The developer said the delay would not add to the cost of the building, '
  'which is paid for by the city and a national heritage grant.',
]


def outputs_with_and_without_pool(tmp_path, pages, *flags) -> dict:
  """`pages` (scraped records) run through ``ingest`` twice, with the
  worker's pool of children (the default) and without it (a budget of 0:
  all in the worker): {'pool': outputs, 'worker': outputs}, each sorted."""
  from pipelines import ingest  # Beam and the stages: only for the tests that run

  scraped = tmp_path / 'pages.jsonl'
  write_jsonl(scraped, pages)
  no_pool = tmp_path / 'no-pool.yaml'
  no_pool.write_text('extract:\n  timeout_seconds: 0\n')
  outputs = {}
  for name, more in (('pool', []), ('worker', ['--config', str(no_pool)])):
    out = tmp_path / name
    ingest.run(['--scraped', str(scraped), '--output', str(out), *flags, *more])
    outputs[name] = read_outputs(out, sort=True, summary=False)
  return outputs


def bundle_outputs(stage, records):
  """What a DoFn emits for one bundle of `records`, each in the global
  window's only pane, as the runner calls it: its outputs in order, those
  of ``finish_bundle`` last."""
  from apache_beam.transforms.window import GlobalWindow
  from apache_beam.utils.windowed_value import PaneInfo, PaneInfoTiming

  pane = PaneInfo(True, True, PaneInfoTiming.ON_TIME, 0, 0)
  stage.start_bundle()
  out = []
  for record in records:
    out += list(stage.process(record, 0, GlobalWindow(), pane))
  return out + list(stage.finish_bundle())


def pooled_stage_outputs(stage, records, extract_config, then=None):
  """A pooled record stage (``PooledRecordStageFn``) run on `records` in one
  bundle, as a worker runs it once extraction has started its pool (a child
  started first): (the outputs' values, in order, and `then(pool)`'s
  result, taken before the pool is released)."""
  from transforms.worker_pool import worker_pool

  stage.setup()
  pool = worker_pool(extract_config)
  try:
    pool(len, 'start a child')  # as extraction does on its first page
    out = bundle_outputs(stage, records)
    after = then(pool) if then else None
  finally:
    stage.teardown()
    pool.release()
  return [o.value for o in out], after
