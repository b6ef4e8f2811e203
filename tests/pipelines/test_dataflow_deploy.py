"""Deploying on Dataflow: the batch, backfill and streaming job graphs build
offline (a dry run), and the deploy files are valid."""

import ast
import json
import os
import re

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions

from pipelines import backfill, ingest
from pipelines import stream as stream_pipeline
from tests.helpers import DATAFLOW_DRY_RUN_ARGS, REPO_ROOT
from transforms import schema

DEPLOY = os.path.join(REPO_ROOT, 'deploy')

# The command of the deploy instructions, as a user submits it, plus the
# dry-run options.
DATAFLOW_ARGS = DATAFLOW_DRY_RUN_ARGS + ['--setup_file', os.path.join(REPO_ROOT, 'setup.py')]
INGEST_ARGS = [
  '--output',
  'gs://newsbeam-test/clean',
  '--scraped',
  'gs://newsbeam-test/raw/*.jsonl.gz',
  '--feeds',
  'gs://newsbeam-test/feeds/*.xml',
]


def test_dataflow_dry_run_builds_the_job_offline(offline, tmp_path, monkeypatch):
  # The stager builds an sdist of the package from --setup_file.
  monkeypatch.chdir(tmp_path)
  assert ingest.run(DATAFLOW_ARGS + INGEST_ARGS) is None
  assert offline == []


def test_backfill_dry_run_builds_the_job_offline(offline, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  days = backfill.run(
    DATAFLOW_ARGS
    + [
      '--start',
      '2022-04-01',
      '--end',
      '2022-04-03',
      '--input-root',
      'gs://newsbeam-test/raw',
      '--output',
      'gs://newsbeam-test/clean',
      '--format',
      'parquet',
    ]
  )
  assert len(days) == 3
  assert offline == []


def test_dry_run_job_holds_every_stage_and_output(offline, config):
  options = PipelineOptions(DATAFLOW_ARGS)
  pipeline = beam.Pipeline(options=options)
  ingest.build_pipeline(
    pipeline,
    config,
    ['gs://newsbeam-test/feeds/*.xml'],
    ['gs://newsbeam-test/raw/*.jsonl.gz'],
    'gs://newsbeam-test/clean',
    50,
  )
  result = pipeline.run()
  names = {t.unique_name for t in result.job.proto_pipeline.components.transforms.values()}
  for stage in (
    'Read',
    'Articles/Process/Extract',
    'Articles/Process/Clean',
    'Articles/Process/SiteBoilerplate',
    'Articles/Process/Language',
    'Articles/Process/Filter',
    'Articles/Dedup',
    'Articles/Classify',
    'Write',
  ):
    assert stage in names
  for output in ('articles', 'duplicates', 'rejected', 'dead_letter'):
    assert 'Write/Write_%s' % output in names
  assert 'Write/WriteSummary' in names
  assert (
    result.job.options.view_as(beam.options.pipeline_options.GoogleCloudOptions).project
    == 'newsbeam-test'
  )
  assert offline == []


# --- Dataflow: the streaming graph builds offline ---------------------------

STREAMING_DATAFLOW_ARGS = DATAFLOW_DRY_RUN_ARGS + ['--streaming']
STREAM_ARGS = [
  '--feeds',
  'https://news.example/rss',
  '--subscription',
  'projects/newsbeam-test/subscriptions/news-pages',
  '--watch',
  'gs://newsbeam-test/incoming/',
  '--output',
  'gs://newsbeam-test/stream',
  '--poll-interval',
  '60',
]


def test_dataflow_streaming_dry_run_builds_offline(offline, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  assert stream_pipeline.run(STREAMING_DATAFLOW_ARGS + STREAM_ARGS) is None
  assert offline == []


def test_streaming_job_holds_every_source_and_stage(offline, config):
  pipeline = beam.Pipeline(options=PipelineOptions(STREAMING_DATAFLOW_ARGS))
  fetch = stream_pipeline.FetchOptions(config['fetch'], fetch_articles=True)
  stream_pipeline.build_streaming(
    pipeline,
    config,
    ['https://news.example/rss'],
    ['gs://newsbeam-test/raw/*.jsonl.gz'],
    'projects/newsbeam-test/subscriptions/news-pages',
    'gs://newsbeam-test/incoming/',
    'gs://newsbeam-test/stream',
    50,
    fetch,
    60,
  )
  result = pipeline.run()
  names = {t.unique_name for t in result.job.proto_pipeline.components.transforms.values()}
  # Each stage by its own label, wherever the composites nest it.
  labels = {name.rsplit('/', 1)[-1] for name in names}
  for stage in (
    'PollFeeds',
    'ReadScraped',
    'PubSub',
    'Watch',
    'FetchArticles',
    'Process',
    'FirstSeen',
    'EventTime',
    'Dedup',
    'Classify',
    'Write',
  ):
    assert stage in labels, stage
  for output in schema.OUTPUTS:
    assert 'Write/Write_%s' % output in names
  assert offline == []


# A value of each template parameter, as a user would give it.
SAMPLE_VALUES = {
  'output': 'gs://newsbeam-test/clean',
  'scraped': 'gs://newsbeam-test/raw/*.jsonl*',
  'feeds': 'https://news.example/feed.xml',
  'min_words': '40',
  'config': 'gs://newsbeam-test/newsbeam.yaml',
  'format': 'parquet',
  'start': '2022-04-01',
  'end': '2022-04-07',
  'input_root': 'gs://newsbeam-test/raw',
}


@pytest.mark.parametrize(
  'metadata, module', [('metadata.json', ingest), ('backfill_metadata.json', backfill)]
)
def test_template_parameters_are_flags_of_the_pipeline(metadata, module):
  with open(os.path.join(DEPLOY, metadata), encoding='utf-8') as f:
    parameters = json.load(f)['parameters']
  argv = []
  for parameter in parameters:
    value = SAMPLE_VALUES[parameter['name']]
    for regex in parameter.get('regexes', []):
      assert re.fullmatch(regex, value), (parameter['name'], regex)
    argv.append('--%s=%s' % (parameter['name'], value))
  # Strict parsing: a parameter the pipeline does not know fails here.
  known = module.build_parser().parse_args(argv)
  assert known.output == SAMPLE_VALUES['output']
  assert known.min_words == 40 and known.format == 'parquet'
  optional = {p['name'] for p in parameters if p.get('isOptional')}
  assert 'output' not in optional


def test_dockerfile_launches_the_pipelines_of_this_package():
  with open(os.path.join(DEPLOY, 'Dockerfile'), encoding='utf-8') as f:
    dockerfile = f.read()
  assert dockerfile.startswith('# ') and re.search(
    r'^FROM gcr\.io/dataflow-templates-base/python311-template-launcher-base$', dockerfile, re.M
  )
  for source in re.findall(r'^COPY (.+) \S+$', dockerfile, re.M):
    for path in source.split():
      assert os.path.exists(os.path.join(REPO_ROOT, path)), path
  py_file = re.search(r'FLEX_TEMPLATE_PYTHON_PY_FILE=\$\{WORKDIR\}/(\S+)', dockerfile).group(1)
  for pipeline in ('ingest', 'backfill'):
    assert os.path.exists(os.path.join(REPO_ROOT, py_file.replace('${PIPELINE}', pipeline)))
  assert 'FLEX_TEMPLATE_PYTHON_SETUP_FILE=${WORKDIR}/setup.py' in dockerfile


def test_airflow_dag_launches_the_backfill_template_with_its_flags():
  path = os.path.join(DEPLOY, 'airflow_dag.py')
  with open(path, encoding='utf-8') as f:
    tree = ast.parse(f.read(), path)
  compile(tree, path, 'exec')
  operators = [
    node
    for node in ast.walk(tree)
    if isinstance(node, ast.Call)
    and getattr(node.func, 'id', '') == 'DataflowStartFlexTemplateOperator'
  ]
  assert len(operators) == 1
  parameters = next(
    node.values[node.keys.index(key)]
    for node in ast.walk(tree)
    if isinstance(node, ast.Dict)
    for key in node.keys
    if isinstance(key, ast.Constant) and key.value == 'parameters'
  )
  names = [key.value for key in parameters.keys]
  backfill.build_parser().parse_args(['--%s=%s' % (name, SAMPLE_VALUES[name]) for name in names])
  assert {'start', 'end', 'input_root', 'output'} <= set(names)


def test_airflow_dag_backfills_no_history_unless_asked():
  path = os.path.join(DEPLOY, 'airflow_dag.py')
  with open(path, encoding='utf-8') as f:
    tree = ast.parse(f.read(), path)
  dag = next(
    node
    for node in ast.walk(tree)
    if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'DAG'
  )
  arguments = {k.arg: k.value for k in dag.keywords}
  # Both come from the environment, read with the defaults below.
  assert isinstance(arguments['catchup'], ast.Name)
  assert isinstance(arguments['start_date'], ast.Name)
  settings = {
    target.id: node.value
    for node in tree.body
    if isinstance(node, ast.Assign)
    for target in node.targets
    if isinstance(target, ast.Name)
  }
  catchup = ast.unparse(settings[arguments['catchup'].id])
  assert "os.environ.get('NEWSBEAM_CATCHUP', 'false')" in catchup and "== 'true'" in catchup
  start = ast.unparse(settings[arguments['start_date'].id])
  assert "os.environ.get('NEWSBEAM_START_DATE'" in start


def test_cron_line_runs_the_backfill_for_one_day():
  with open(os.path.join(DEPLOY, 'cron.example'), encoding='utf-8') as f:
    lines = [
      l
      for l in f.read().splitlines()
      if l.strip() and not l.startswith('#') and '=' not in l.split()[0]
    ]
  assert len(lines) == 1
  fields = lines[0].split(None, 5)
  assert len(fields) == 6 and 'python -m pipelines.backfill' in fields[5]
  # cron ends the command at an unescaped %.
  assert '\\%' in fields[5] and not re.search(r'(?<!\\)%', fields[5])


def test_web_archive_and_sitemap_dry_runs_build_offline(offline, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  archives = ['--warc', 'gs://newsbeam-test/cc-news/2024/03/*.warc.gz']
  sitemaps = ['--sitemaps', 'https://news.example/']
  assert (
    ingest.run(DATAFLOW_ARGS + archives + sitemaps + ['--output', 'gs://newsbeam-test/clean'])
    is None
  )
  days = backfill.run(
    DATAFLOW_ARGS
    + archives
    + sitemaps
    + ['--start', '2024-03-01', '--end', '2024-03-02', '--output', 'gs://newsbeam-test/clean']
  )
  assert len(days) == 2
  assert offline == []


def test_the_web_archive_job_splits_files_before_reading_them(offline, config):
  pipeline = beam.Pipeline(options=PipelineOptions(DATAFLOW_ARGS))
  ingest.build_pipeline(
    pipeline, config, [], [], 'gs://newsbeam-test/clean', 50, warc=['gs://newsbeam-test/a.warc.gz']
  )
  result = pipeline.run()
  names = {t.unique_name for t in result.job.proto_pipeline.components.transforms.values()}
  for stage in ('Read/IndexWarc', 'Read/SpreadWarcSpans', 'Read/ReadWarc', 'Write/CountSkipped'):
    assert stage in names
  assert offline == []


# --- Beam's construction-time type check ------------------------------------


def test_the_backfill_graph_passes_beams_type_check(offline, config):
  # A run skips the check (below); the graphs are built with it on here:
  # the batch and streaming jobs' above, the backfill's with its archives.
  options = PipelineOptions(DATAFLOW_ARGS)
  assert options.view_as(TypeOptions).pipeline_type_check
  pipeline = beam.Pipeline(options=options)
  days = ['2022-04-01', '2022-04-02']
  backfill.build_backfill(
    pipeline,
    config,
    days,
    'gs://newsbeam-test/raw',
    'gs://newsbeam-test/clean',
    50,
    index='gs://newsbeam-test/index',
    warc=['gs://newsbeam-test/a.warc.gz'],
  )
  pipeline.run()
  assert offline == []


def test_a_run_skips_beams_type_check(tmp_path):
  options = ingest.launch(ingest.build_parser(), ['--output', str(tmp_path / 'out')]).options
  assert options.view_as(TypeOptions).pipeline_type_check is False
