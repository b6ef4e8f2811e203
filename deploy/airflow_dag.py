"""newsbeam on Cloud Composer (Airflow 2): one Dataflow backfill job per day.

Each daily run launches the backfill Flex Template (see the README's "Deploy
on Dataflow") for the run's logical date: it reads
gs://BUCKET/raw/dt=YYYY-MM-DD/ and replaces that day's partitions under
gs://BUCKET/clean/. Clearing a day's task reruns that day.

History is never backfilled unless asked: on first deploy the DAG runs the
latest day only (catchup off). To process the days since a date, one job
each in date order, set the environment variables NEWSBEAM_START_DATE
(YYYY-MM-DD) and NEWSBEAM_CATCHUP=true on the Composer environment; or run
`python -m pipelines.backfill` for the range once (one job for all days).

Set the Airflow variables newsbeam_project, newsbeam_region, newsbeam_bucket
and newsbeam_backfill_template (the template spec's gs:// path); they are
read when a task runs (Jinja), not each time the DAG file is parsed. Needs
apache-airflow-providers-google (installed on Cloud Composer).
"""

import datetime
import os

from airflow import DAG
from airflow.providers.google.cloud.operators.dataflow import DataflowStartFlexTemplateOperator

BUCKET = 'gs://{{ var.value.newsbeam_bucket }}'
# Catchup is off unless asked, and the start date is the user's: the DAG's
# first deploy must not launch one Dataflow job per day since a past date.
CATCHUP = os.environ.get('NEWSBEAM_CATCHUP', 'false').strip().lower() == 'true'
START_DATE = datetime.datetime.strptime(
  os.environ.get('NEWSBEAM_START_DATE', '2026-12-01'), '%Y-%m-%d'
)

with DAG(
  dag_id='newsbeam_daily_backfill',
  description='newsbeam: the day\'s scraped pages to clean records',
  schedule='15 3 * * *',
  start_date=START_DATE,
  catchup=CATCHUP,
  max_active_runs=1,
  default_args={'retries': 2, 'retry_delay': datetime.timedelta(minutes=10)},
  tags=['newsbeam'],
) as dag:
  DataflowStartFlexTemplateOperator(
    task_id='backfill_day',
    project_id='{{ var.value.newsbeam_project }}',
    location='{{ var.value.newsbeam_region }}',
    wait_until_finished=True,
    body={
      'launchParameter': {
        'jobName': 'newsbeam-backfill-{{ ds_nodash }}',
        'containerSpecGcsPath': '{{ var.value.newsbeam_backfill_template }}',
        'parameters': {
          'start': '{{ ds }}',
          'end': '{{ ds }}',
          'input_root': BUCKET + '/raw',
          'output': BUCKET + '/clean',
          'format': 'parquet',
        },
        'environment': {'tempLocation': BUCKET + '/tmp'},
      },
    },
  )
