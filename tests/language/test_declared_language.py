"""A page's declared language (a news sitemap's news:language) is its
language only where the detector cannot tell: no label, or one it scores
under language.declared_language_below_score."""

from transforms.language.stage import with_declared_language


def _labelled(language, score):
  return {'language': language, 'language_score': score, 'warnings': ['kept']}


def test_the_declared_language_is_taken_where_the_detector_cannot_tell():
  for unsure in (_labelled(None, 0.0), _labelled('vi', 0.2)):
    chosen = with_declared_language(unsure, 'sw', 0.5)
    assert (chosen['language'], chosen['language_score']) == ('sw', None)
    assert chosen['warnings'][0] == 'kept' and 'news:language' in chosen['warnings'][1]


def test_a_confident_label_or_no_declaration_leaves_the_record_as_labelled():
  sure = _labelled('en', 0.93)
  assert with_declared_language(sure, 'de', 0.5) is sure
  unsure = _labelled('vi', 0.2)
  assert with_declared_language(unsure, None, 0.5) is unsure
  # The detector agrees, however unsure: its score stays.
  assert with_declared_language(unsure, 'vi', 0.5) is unsure
