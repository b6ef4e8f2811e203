"""Chinese and Japanese are written without spaces between words: the
model's word n-grams there are single characters and character pairs, so a
word such as 地震 (earthquake) is a feature of its own, as a spaced word is."""

from configs.loading import load_config
from transforms.topics.model import build_model


def _word_analyzer():
  words = dict(
    build_model(load_config()['classify']['training']).named_steps['features'].transformer_list
  )['words']
  return words.build_analyzer()


def test_han_and_kana_give_characters_and_character_pairs():
  terms = _word_analyzer()('東京で地震')
  assert ['東', '京', 'て', '地', '震'] == terms[:5]  # accents stripped: で -> て
  assert {'東 京', '地 震'} <= set(terms)


def test_spaced_scripts_keep_their_words_lower_cased_without_accents():
  terms = _word_analyzer()('Économie: la Bourse recule')
  assert terms[:4] == ['economie', 'la', 'bourse', 'recule']
  assert 'la bourse' in terms


def test_a_mixed_headline_keeps_both():
  terms = set(_word_analyzer()('Tesla 股价 rises'))
  assert {'tesla', '股', '价', '股 价', 'rises'} <= terms
