"""Rebuilds the written topic sets from the folders their writers fill.

The project's engineers write labelled news items (a headline and a lead,
one of the 17 top-level IPTC topics) into one JSON Lines file per language,
`{label, lang, title, text}`, named after the language (`de.jsonl`; a
second writer's `de-2.jsonl`). This folds the training folder into
`benchmarks/topic_examples.jsonl` and the test folder into
`benchmarks/topic_test_written.jsonl`:

- lines that are not JSON objects, lack a headline or a lead, or carry a
  label that is not one of the 17 codes are dropped;
- `lang` is taken from the file's name;
- repeats are dropped (the same headline or lead, case and spacing
  ignored), and so is every training item close to a test item of its
  language (the same lead, or half or more of the headline's words), so
  that the test set is never trained on;
- lines of the training set that came from no folder (the first written
  examples) are kept, and a test item close to one of them is dropped.

Rerun it whenever the folders grow; it prints what it kept and dropped.

  python -m benchmarks.topic_written --training /tmp/written --test /tmp/written-test
"""

import argparse
import collections
import glob
import json
import os
import re
import sys

from benchmarks.topic_corpus import WRITTEN_EXAMPLES, WRITTEN_TEST

TOPICS = {'medtop:%02d000000' % n for n in range(1, 18)}


def _normalised(text):
  return re.sub(r'\s+', ' ', text).strip().lower()


def _words(title):
  """A headline's words; its character pairs in scripts without spaces."""
  title = _normalised(title)
  if ' ' in title:
    return set(re.findall(r'\w+', title))
  return {title[i : i + 2] for i in range(len(title) - 1)}


def read_folder(folder, dropped):
  """The valid items of a writers' folder, in file order."""
  for path in sorted(glob.glob(os.path.join(folder, '*.jsonl'))):
    lang = re.sub(r'-\d+$', '', os.path.basename(path)[: -len('.jsonl')])
    with open(path, encoding='utf-8') as f:
      for line in f:
        if not line.strip():
          continue
        try:
          item = json.loads(line)
        except ValueError:
          dropped['not JSON', lang] += 1
          continue
        if not isinstance(item, dict) or item.get('label') not in TOPICS:
          dropped['not one of the 17 topics', lang] += 1
          continue
        if not all(isinstance(item.get(k), str) and item[k].strip() for k in ('title', 'text')):
          dropped['no headline or lead', lang] += 1
          continue
        yield {
          'label': item['label'],
          'lang': lang,
          'title': item['title'].strip(),
          'text': item['text'].strip(),
        }


def close_to(item, others):
  """Whether an item repeats one of `others` in its language: the same
  lead, or half or more of the headline's words."""
  words, text = _words(item['title']), _normalised(item['text'])
  for other in others.get(item['lang'], ()):
    if text == _normalised(other['text']):
      return True
    theirs = _words(other['title'])
    if words and theirs and len(words & theirs) / len(words | theirs) >= 0.5:
      return True
  return False


def by_language(items):
  languages = collections.defaultdict(list)
  for item in items:
    languages[item['lang']].append(item)
  return languages


def deduped(items, dropped, seen=None):
  seen = set() if seen is None else seen
  for item in items:
    keys = {_normalised(item['title']), _normalised(item['text'])}
    if keys & seen:
      dropped['repeated', item['lang']] += 1
      continue
    seen |= keys
    yield item


def write(path, items):
  with open(path, 'w', encoding='utf-8') as f:
    for item in items:
      f.write(json.dumps(item, ensure_ascii=False) + '\n')


def counts(name, items):
  table = collections.Counter((i['lang'], i['label']) for i in items)
  print('%s: %d items' % (name, len(items)))
  for lang in sorted({i['lang'] for i in items}):
    per_topic = [table[lang, code] for code in sorted(TOPICS)]
    print('  %-4s %4d  %s' % (lang, sum(per_topic), ' '.join('%2d' % n for n in per_topic)))


def run(argv=None):
  parser = argparse.ArgumentParser(prog='python -m benchmarks.topic_written')
  parser.add_argument('--training', required=True, help='the training items folder')
  parser.add_argument('--test', required=True, help='the test items folder')
  args = parser.parse_args(argv)
  dropped = collections.Counter()

  from_folder = list(read_folder(args.training, collections.Counter()))
  folder_keys = {(i['title'], i['text']) for i in from_folder}
  with open(WRITTEN_EXAMPLES, encoding='utf-8') as f:
    first = [json.loads(line) for line in f]
  first = [i for i in first if (i['title'], i['text']) not in folder_keys]

  test = []
  for item in deduped(read_folder(args.test, dropped), dropped):
    if close_to(item, by_language(first)):
      dropped['test item close to a first example', item['lang']] += 1
      continue
    test.append(item)
  training = []
  for item in deduped(first + list(read_folder(args.training, dropped)), dropped):
    if item not in first and close_to(item, by_language(test)):
      dropped['close to a test item', item['lang']] += 1
      continue
    training.append(item)

  write(WRITTEN_EXAMPLES, training)
  write(WRITTEN_TEST, test)
  counts('training (%s), per topic medtop:01..17' % WRITTEN_EXAMPLES, training)
  counts('test (%s)' % WRITTEN_TEST, test)
  print('dropped:')
  for (reason, lang), n in sorted(dropped.items()):
    print('  %-28s %-4s %d' % (reason, lang, n))


if __name__ == '__main__':
  run(sys.argv[1:])
