"""What the worker pool's fork server loads once, for all its children.

The fork server (``transforms/text/budget.py``) imports this module before
it forks the first child, so each child starts with it done and shares its
memory (copy on write), instead of paying for it in its own first calls:

- dateparser's patterns: htmldate reads a date it cannot parse itself
  through dateparser, which tries every locale in turn and compiles each
  locale's patterns on first use, about 1.5 s of CPU per process for all of
  them; a string no locale reads builds them all. The compiled patterns are
  kept on disk between runs (``transforms/text/date_patterns.py``): a run
  after the first loads them in about a fifth of that.
- trafilatura's and htmldate's first call on a page (their lazy set-up).
- fastText's language model (lid.176.ftz, about 25 ms of CPU), which a
  child's first language call would otherwise load within a record's
  budget.
- lingua's trigram models (its fast mode, 75 languages, about 0.5 s and
  80 MB), loaded by detecting a line in each script. Not through lingua's
  own preloading: that starts a thread pool (rayon), and a child forked
  from a process with running threads could wait on threads it does not
  have. The full models (1- to 5-grams, 15 MB and 0.15 s each) stay lazy:
  the text decides which few are needed.

Only libraries' own caches are filled here; nothing depends on a run's
configuration, and a child that needs something else loads it as before.
Never imported by a worker or launcher, which have no use for it.
"""

# One line per script lingua's fast mode reads: each loads the trigram
# models of the languages written in that script.
SCRIPT_SAMPLES = (
  'The council will meet on Tuesday to vote on the new budget for schools.',
  'Совет соберётся во вторник, чтобы проголосовать за новый бюджет.',
  'سيجتمع المجلس يوم الثلاثاء للتصويت على الميزانية الجديدة.',
  'Το συμβούλιο θα συνεδριάσει την Τρίτη για τον νέο προϋπολογισμό.',
  'המועצה תתכנס ביום שלישי כדי להצביע על התקציב החדש.',
  'परिषद मंगलवार को नए बजट पर मतदान करने के लिए बैठक करेगी।',
  'পরিষদ মঙ্গলবার নতুন বাজেটের উপর ভোট দিতে বৈঠক করবে।',
  '委员会将于星期二开会，就新的预算进行表决。',
  '委員会は火曜日に新しい予算について採決するために会合を開きます。',
  '위원회는 화요일에 새 예산에 대해 표결하기 위해 회의를 엽니다.',
  'สภาจะประชุมในวันอังคารเพื่อลงคะแนนเสียงเกี่ยวกับงบประมาณใหม่',
)


def preload() -> None:
  from lingua import LanguageDetectorBuilder

  from transforms.language.backends import FAST_DETECTORS
  from transforms.text import date_patterns
  from transforms.text.page import WARM_UP_PAGE, extract_page

  date_patterns.warm_up()
  extract_page(WARM_UP_PAGE, None)
  for detector in FAST_DETECTORS.values():
    detector()
  detector = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
  for line in SCRIPT_SAMPLES:
    detector.compute_language_confidence_values(line)


preload()
