"""A parsed page's elements have the classes lxml.html gives them (forms,
inputs, ... and HtmlElement for the rest), looked up in C: every extractor
reads the same tree as with lxml.html's own Python lookup."""

import copy

from lxml import html as lxml_html

from transforms.text.page import _element_classes_in_c, extract_page, parse_page

PAGE = (
  '<!DOCTYPE html><html><head><title>Forms &amp; more</title></head><BODY>'
  '<article><H1>Council votes</H1><p>The council voted on Monday.&nbsp;It met'
  ' at noon.</p><FORM action="/s"><LABEL>Search</LABEL><INPUT name="q">'
  '<select><option>a</option></select><textarea>x</textarea></FORM>'
  '<svg><circle r="1"/></svg><fb:like></fb:like><p>Second paragraph.</p>'
  '</article></BODY></html>'
)


def _classes(tree):
  return [(el.tag, type(el)) for el in tree.iter()]


def test_elements_have_the_classes_lxml_html_gives_them():
  tree = parse_page(PAGE)
  reference = lxml_html.document_fromstring(PAGE, parser=lxml_html.HTMLParser(remove_comments=True))
  assert _classes(tree) == _classes(reference)
  kinds = dict((tag, kind) for tag, kind in _classes(tree))
  assert kinds['form'] is lxml_html.FormElement
  assert kinds['input'] is lxml_html.InputElement
  assert kinds['select'] is lxml_html.SelectElement
  assert kinds['textarea'] is lxml_html.TextareaElement
  assert kinds['label'] is lxml_html.LabelElement
  assert kinds['p'] is lxml_html.HtmlElement
  # Copies (each extractor reads its own) keep them.
  assert _classes(copy.deepcopy(tree)) == _classes(tree)
  assert 'Search' in tree.text_content()


NEWS_PAGE = (
  '<html><head><title>Tram line reaches the hospital | City News</title>'
  '<meta property="article:published_time" content="2024-03-05T09:00:00Z">'
  '<meta name="author" content="Mara Lindqvist"></head><body>'
  '<nav><a href="/">Home</a> <a href="/city">City</a></nav>'
  '<article><h1>Tram line reaches the hospital</h1>'
  '<p class="byline">By Mara Lindqvist</p>'
  + ''.join(
    '<p>The council voted on Monday to extend the tram line to the new hospital, '
    'a project discussed for %d years that will cost about forty million.</p>' % n
    for n in range(2, 9)
  )
  + '<form><label>Newsletter</label><input name="email"><button>Sign up</button></form>'
  '</article><aside><h2>Most read</h2><ul><li><a href="/a">Bridge closed</a></li></ul>'
  '</aside><footer><p>All rights reserved.</p></footer></body></html>'
)


def test_pages_extract_as_with_lxml_html_own_lookup():
  from trafilatura.utils import HTML_PARSER

  _element_classes_in_c()
  fast = [extract_page(page, 'https://news.example/tram') for page in (PAGE, NEWS_PAGE)]
  HTML_PARSER.set_element_class_lookup(lxml_html.HtmlElementClassLookup())
  try:
    plain = [extract_page(page, 'https://news.example/tram') for page in (PAGE, NEWS_PAGE)]
  finally:
    _element_classes_in_c.cache_clear()
    _element_classes_in_c()
  assert fast == plain
  assert 'forty million' in fast[1]['text'] and fast[1]['title']
