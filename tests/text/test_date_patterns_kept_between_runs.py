"""dateparser's locale patterns kept on disk between runs: a process that
finds them loads them instead of compiling them, and reads the same dates.

Each check runs in processes of its own: dateparser's caches are
process-wide, and a kept file is for the next process."""

import json
import os
import subprocess
import sys

from tests.helpers import REPO_ROOT
from transforms.text import date_patterns

# Dates in many locales and forms, and strings that are no date.
DATES = [
  '12 janvier 2024',
  '3. März 2023 um 14:05',
  '5 de mayo de 2021',
  '2 lutego 2020',
  '14 июня 2019 г.',
  '2024年3月5日',
  '7 ottobre 2025',
  'Tuesday, 4 June 2024',
  'October 7, 2025 at 5:00 pm',
  '12.04.2021',
  '5 Ağustos 2020',
  'lundi 3 juin 2024 10:00',
  '2 de janeiro de 2020',
  '11 listopada 2019',
  'ngày 5 tháng 3 năm 2021',
  '3 hours ago',
  'vor 3 Tagen',
  'not a date at all',
]

# Warms up dateparser as the pool's fork server does, noting every pattern
# the regex module compiles from source meanwhile; prints what it found.
_PROBE = r"""
import json, sys
import regex._main as regex_main

compiled = set()
compile_from_source = regex_main._compile


def noting(pattern, *args, **kwargs):
  compiled.add(pattern)
  return compile_from_source(pattern, *args, **kwargs)


regex_main._compile = noting
from dateparser.languages.dictionary import Dictionary
from htmldate.extractors import get_external_parser

from transforms.text import date_patterns

status = date_patterns.warm_up()
patterns = {}
for name in date_patterns.CACHES:
  for key, by_locale in getattr(Dictionary, name).items():
    for locale, value in by_locale.items():
      if hasattr(value, 'pattern'):
        patterns['%s %s %s' % (name, key[1:], locale)] = [value.pattern, value.flags]
parser = get_external_parser()
dates = []
for text in json.loads(sys.argv[1]):
  found = parser.get_date_data(text)
  dates.append([text, str(found['date_obj']), found['locale'], found['period']])
print(json.dumps({
  'status': status,
  'patterns': patterns,
  'compiled_here': sorted(p for p, _ in patterns.values() if p in compiled),
  'dates': dates,
}))
"""


def probe(cache_dir):
  env = dict(os.environ, NEWSBEAM_CACHE_DIR=str(cache_dir))
  done = subprocess.run(
    [sys.executable, '-c', _PROBE, json.dumps(DATES)],
    cwd=REPO_ROOT,
    env=env,
    capture_output=True,
    text=True,
    check=True,
  )
  return json.loads(done.stdout)


def test_the_next_process_loads_the_patterns_and_reads_the_same_dates(tmp_path):
  off = probe('off')
  first = probe(tmp_path)
  second = probe(tmp_path)
  assert (off['status'], first['status'], second['status']) == (
    'built, not kept',
    'built',
    'loaded',
  )
  assert os.listdir(tmp_path) == [os.path.basename(date_patterns.cache_path(str(tmp_path)))]
  # Every locale's patterns, the same sources and flags in all three.
  assert len(off['patterns']) >= 3 * 200
  assert first['patterns'] == off['patterns'] == second['patterns']
  # Compiled from source where built, not where loaded.
  assert len(first['compiled_here']) == len(first['patterns'])
  assert second['compiled_here'] == []
  assert second['dates'] == first['dates'] == off['dates']
  assert sum(date != 'None' for _, date, _, _ in off['dates']) >= 12


def test_a_damaged_file_is_built_again(tmp_path):
  path = date_patterns.cache_path(str(tmp_path))
  with open(path, 'wb') as f:
    f.write(b'\x00not marshal data')
  assert probe(tmp_path)['status'] == 'built'
  again = probe(tmp_path)
  assert again['status'] == 'loaded'
  assert again['compiled_here'] == []
  assert [name for name in os.listdir(tmp_path) if name.endswith('.part')] == []


def test_a_folder_that_cannot_be_made_only_means_built_each_time(tmp_path):
  not_a_folder = tmp_path / 'a file'
  not_a_folder.write_text('')
  assert probe(not_a_folder / 'cache')['status'] == 'built, not kept'
  assert probe(not_a_folder / 'cache')['status'] == 'built, not kept'


def test_where_the_patterns_are_kept(monkeypatch, tmp_path):
  monkeypatch.setenv('NEWSBEAM_CACHE_DIR', str(tmp_path))
  assert date_patterns.cache_folder() == str(tmp_path)
  for off in ('off', 'OFF', ''):
    monkeypatch.setenv('NEWSBEAM_CACHE_DIR', off)
    assert date_patterns.cache_folder() is None
  monkeypatch.delenv('NEWSBEAM_CACHE_DIR')
  monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
  assert date_patterns.cache_folder() == os.path.join(str(tmp_path), 'newsbeam')
  monkeypatch.delenv('XDG_CACHE_HOME')
  monkeypatch.setenv('HOME', str(tmp_path))
  assert date_patterns.cache_folder() == os.path.join(str(tmp_path), '.cache', 'newsbeam')


def test_a_file_name_that_cannot_be_told_only_means_built(monkeypatch, tmp_path):
  def no_version(folder):
    raise AttributeError("module 'dateparser' has no attribute '__version__'")

  monkeypatch.setattr(date_patterns, 'cache_path', no_version)
  assert date_patterns.warm_up(str(tmp_path)) == 'built, not kept'
  assert os.listdir(tmp_path) == []
