"""Extraction and normalization, without Beam."""

from transforms import extract
from transforms.text.urls import canonicalize_url, domain_of


def test_normalize_text_gives_plain_paragraphs():
  text = 'Caf\u0065\u0301 &amp; bar<br/> opens.\r\n\r\n\u200bSecond\tline  here <b>bold</b>'
  assert extract.normalize_text(text) == 'Café & bar opens.\n\nSecond line here bold'


def test_normalize_text_removes_script_even_when_escaped():
  text = 'Before &lt;script&gt;alert(1)&lt;/script&gt; after <style>p{}</style> end'
  out = extract.normalize_text(text)
  assert 'alert' not in out and '<' not in out and 'p{}' not in out
  assert out == 'Before after end'


def test_lines_without_blank_lines_are_paragraphs():
  assert extract.normalize_text('One.\nTwo.\n') == 'One.\n\nTwo.'


def test_html_fragment_to_text_keeps_paragraphs_and_drops_script():
  html = (
    '<p>First <a href="x" onclick="evil()">para</a>.</p><script>evil()</script><p>Second para.</p>'
  )
  assert extract.html_fragment_to_text(html) == 'First para.\n\nSecond para.'


def test_canonical_url_drops_tracking_and_fragment():
  url = 'HTTPS://WWW.News.Example:443/a/b?utm_source=x&id=7&fbclid=1&gclid=2#top'
  assert canonicalize_url(url) == 'https://www.news.example/a/b?id=7'
  assert domain_of(url) == 'news.example'


PAGE = '''<html><head><title>Storm hits the coast | Coast Watch</title>
<meta name="author" content="Mara Lindqvist"></head><body>
<nav><a href="/">Home</a> <a href="/local">Local</a></nav>
<article><h1>Storm hits the coast</h1>
<p>Forecasters warned on Tuesday that the storm approaching the northern coast could bring gusts above 140 km/h.</p>
<p>The national weather service raised its alert to the highest level for six coastal districts overnight.</p>
<p>Local authorities opened shelters in school halls and asked residents to move their cars to higher ground.</p>
</article><footer>Contact us | Privacy</footer></body></html>'''


def test_build_article_extracts_main_text_and_metadata():
  article = extract.build_article({'url': 'https://coast.example/s?utm_x=1', 'html': PAGE})
  assert 'Forecasters warned' in article['body']
  assert 'Privacy' not in article['body'] and 'Home' not in article['body']
  assert article['authors'] == ['Mara Lindqvist']
  assert article['canonical_url'] == 'https://coast.example/s'
  assert article['domain'] == 'coast.example'
  assert article['title'].startswith('Storm hits the coast')


def test_text_record_is_normalized_not_extracted():
  article = extract.build_article(
    {'url': 'https://a.example/', 'text': 'Line  one\n\n\n<i>Line</i> two'}
  )
  assert article['body'] == 'Line one\n\nLine two'
