"""Local workers run as processes share the cores: each one's pool of
extraction children is its share of them; one worker, workers as threads,
and a pool size the configuration sets are left as they are."""

import os

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from configs.loading import load_config
from pipelines.ingest import with_local_pool_size


def pool(flags, processes=0):
  config = load_config()
  config['extract']['processes'] = processes
  return with_local_pool_size(config, PipelineOptions(flags))['extract']['processes']


@pytest.mark.parametrize('workers', [2, 4])
def test_each_multi_processing_worker_gets_its_share_of_the_cores(workers):
  flags = ['--direct_num_workers=%d' % workers, '--direct_running_mode=multi_processing']
  assert pool(flags) == max(1, os.cpu_count() // workers)


@pytest.mark.parametrize(
  'flags',
  [
    [],
    ['--direct_num_workers=2', '--direct_running_mode=multi_threading'],
    ['--direct_running_mode=multi_processing'],
  ],
  ids=['one-worker', 'threads-share-one-pool', 'one-process'],
)
def test_one_pool_per_process_keeps_one_child_per_core(flags):
  assert pool(flags) == 0


def test_a_configured_pool_size_stands():
  flags = ['--direct_num_workers=2', '--direct_running_mode=multi_processing']
  assert pool(flags, processes=3) == 3
