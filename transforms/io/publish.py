"""Publishing a run: nothing where readers look changes until the run has
succeeded, and then all of it changes in one short step.

A file system or Cloud Storage cannot replace four folders, a summary and
index files in one atomic operation. So a run writes everything first under
staging prefixes that readers never glob (they read `part-*`, `summary.json`,
`_index/run-*.jsonl`):

  OUTPUT/_staging/<token>/...   part files, summary.json, report.html
  INDEX/_staging/<token>/...    the run's index entries

When every bundle has written its files, one step writes the run's publish
manifest, ``OUTPUT/_staging/<token>/publish.json``: the list of operations
that publish the run (each staged file renamed to its final name, each file
of an earlier run that this run replaces deleted), in this order: part files,
earlier part files, index entries, earlier index entries, report.html, and
summary.json last (a reader that finds the new summary finds the new outputs).
Then it carries the operations out, and removes the manifest and the staging.

- A run that fails or is killed before its manifest is written leaves the
  previous outputs and index exactly as they were; its staging is invisible
  and is removed by the next run into the same output.
- A run killed while publishing leaves its manifest: the next run into the
  same output carries it out before it starts (roll forward). Every
  operation can be repeated (a rename whose source is gone and whose target
  is there is done), so a roll forward cut short is rolled forward again.
- A reader that lists the folders while a run publishes may see some new
  part files beside old ones for that moment (renames of a few files, not
  the run). Runs into one output must not overlap.
"""

import json
import logging
import os
import re
import uuid
from typing import Any, Dict, Iterable, List, NamedTuple, Optional

from apache_beam.io.filesystems import FileSystems

STAGING_FOLDER = '_staging'
MANIFEST_FILE = 'publish.json'
RENAME = 'rename'
DELETE = 'delete'


def new_token() -> str:
  """A run's staging token (its staged files' folder under _staging)."""
  return uuid.uuid4().hex


def staging_folder(base: str, token: str, *names: str) -> str:
  """`base/_staging/token/names...`."""
  return FileSystems.join(base.rstrip('/'), STAGING_FOLDER, token, *names)


class IndexFiles(NamedTuple):
  """The index entries a run publishes with its outputs: staged under
  `INDEX/_staging/token/`, each moved to the same relative path under
  `INDEX/`; `files` is their relative glob, which also names the entries of
  an earlier run that this run replaces (``run-<run key>-*.jsonl`` for an
  ingest run, ``dt=YYYY-MM-DD/run-*.jsonl`` for a backfill's day)."""

  folder: str
  token: str
  files: str

  def staged(self) -> str:
    return staging_folder(self.folder, self.token)


def matching(pattern: str) -> List[str]:
  return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def relative(path: str, folder: str) -> str:
  prefix = folder.rstrip('/') + '/'
  if not path.startswith(prefix):
    raise ValueError('%s is not under %s' % (path, folder))
  return path[len(prefix) :]


def replacing(final: Iterable[str], pattern: str) -> List[List[str]]:
  """The delete operations of the files matching `pattern` that are not
  among this run's `final` names."""
  keep = set(final)
  return [[DELETE, path] for path in matching(pattern) if path not in keep]


def index_operations(index: IndexFiles) -> List[List[str]]:
  """Renames of the run's staged index files, then deletes of the entries of
  an earlier run that they replace."""
  staged = index.staged()
  sources = matching(FileSystems.join(staged, index.files))
  targets = [FileSystems.join(index.folder.rstrip('/'), relative(s, staged)) for s in sources]
  return [[RENAME, s, t] for s, t in zip(sources, targets)] + replacing(
    targets, FileSystems.join(index.folder.rstrip('/'), index.files)
  )


def write_manifest(path: str, operations: List[List[str]], staged: List[str]) -> str:
  """The manifest: the operations, and the staging folders to remove after."""
  body = {'operations': operations, 'staging': staged}
  with FileSystems.create(path, mime_type='application/json') as f:
    f.write(json.dumps(body, indent=1).encode('utf-8'))
  return path


def _ensure_folder(path: str) -> None:
  """The folder of `path`, where the file system has folders (a local
  rename does not make them; on Cloud Storage this is nothing)."""
  folder = FileSystems.split(path)[0]
  if not FileSystems.exists(folder):
    try:
      FileSystems.mkdirs(folder)
    except OSError:
      if not FileSystems.exists(folder):
        raise


def carry_out(operation: List[str]) -> None:
  """One operation of a manifest; repeating it is harmless."""
  if operation[0] == RENAME:
    source, target = operation[1:]
    if FileSystems.exists(source):
      _ensure_folder(target)
      FileSystems.rename([source], [target])
    elif not FileSystems.exists(target):
      raise OSError(
        'cannot publish %s: neither it nor its staged copy %s exists' % (target, source)
      )
  elif operation[0] == DELETE:
    if FileSystems.exists(operation[1]):
      FileSystems.delete([operation[1]])
  else:
    raise ValueError('unknown publish operation %r' % (operation,))


def remove_tree(folder: str) -> None:
  """Deletes every file under `folder`, and the folder where there is one."""
  files = matching(FileSystems.join(folder.rstrip('/'), '**'))
  if files:
    FileSystems.delete(files)
  if FileSystems.exists(folder):
    FileSystems.delete([folder])


def publish(manifest: str) -> None:
  """Carries out a manifest, then removes it and the run's staging."""
  with FileSystems.open(manifest) as f:
    body = json.loads(f.read().decode('utf-8'))
  for operation in body['operations']:
    carry_out(operation)
  FileSystems.delete([manifest])
  for folder in body['staging']:
    remove_staging(folder)


def remove_staging(folder: str) -> None:
  """A run's staging folder, and `_staging` itself when left empty."""
  remove_tree(folder)
  remove_empty_parents(folder)


def remove_empty_parents(folder: str) -> None:
  """A local staging folder's parents up to `_staging`, when left empty (a
  backfill's other days may still hold theirs; Cloud Storage has no
  folders)."""
  if '://' in folder:
    return
  parent = os.path.dirname(folder.rstrip('/'))
  while STAGING_FOLDER in parent.split(os.sep):
    try:
      os.rmdir(parent)
    except OSError:
      return
    parent = os.path.dirname(parent)


def manifests(output: str) -> List[str]:
  """The manifests of runs into `output` that did not finish publishing (a
  backfill's days publish one by one: one manifest per day)."""
  root = FileSystems.join(output.rstrip('/'), STAGING_FOLDER)
  return matching(FileSystems.join(root, '*', MANIFEST_FILE)) + matching(
    FileSystems.join(root, '*', '*', MANIFEST_FILE)
  )


def staging_tokens(output: str) -> List[str]:
  root = FileSystems.join(output.rstrip('/'), STAGING_FOLDER)
  paths = matching(FileSystems.join(root, '**'))
  return sorted({relative(path, root).split('/', 1)[0] for path in paths})


def finish_earlier_runs(output: str, index: Optional[str] = None) -> Dict[str, Any]:
  """Before a run into `output`: rolls forward the publishes that earlier
  runs began and did not finish, then removes what runs that never reached
  publishing staged (under `output`, and their tokens under `index`).
  -> {'rolled_forward': manifests carried out, 'removed': tokens removed}."""
  done = []
  for manifest in manifests(output):
    logging.warning('an earlier run into %s stopped while publishing: publishing it now', output)
    publish(manifest)
    done.append(manifest)
  removed = staging_tokens(output)
  for token in removed:
    logging.warning('removing the staged files of an earlier run into %s that failed', output)
    remove_tree(staging_folder(output, token))
    if index:
      remove_tree(staging_folder(index, token))
  for base in [output] + ([index] if index else []):
    root = FileSystems.join(base.rstrip('/'), STAGING_FOLDER)
    if FileSystems.exists(root) and not matching(FileSystems.join(root, '**')):
      FileSystems.delete([root])
  return {'rolled_forward': done, 'removed': removed}


# Cloud Storage bucket names: 3 to 63 lower-case letters, digits, '-', '_'
# and '.', starting and ending with a letter or digit.
_BUCKET = re.compile(r'^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$')


def unusable_location(location: str) -> Optional[str]:
  """Why an output or index location cannot be written to, or None. Looks
  only at the name of a gs:// location (no request leaves the machine); a
  local one must be a folder, or one that can be made."""
  if location.startswith('gs://'):
    bucket = location[len('gs://') :].split('/', 1)[0]
    if not _BUCKET.match(bucket):
      return (
        'not a valid Cloud Storage bucket name: %r (3-63 lower-case letters, '
        'digits, "-", "_" and ".", starting and ending with a letter or digit)' % bucket
      )
    return None
  if '://' in location:
    return None  # another file system Beam knows; it reports its own errors
  path = os.path.abspath(location)
  if os.path.exists(path) and not os.path.isdir(path):
    return 'is an existing file, not a folder'
  existing = path
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    return '%s is a file, not a folder' % existing
  if not os.access(existing, os.W_OK | os.X_OK):
    return 'cannot write in %s' % existing
  return None
