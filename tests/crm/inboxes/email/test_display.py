"""What the agent is shown: quoted history trimmed (the full text kept), HTML made safe."""

from crm.inboxes.adapters.email.html import html_to_text, sanitize_html
from crm.inboxes.adapters.email.parse import parse_message
from crm.inboxes.adapters.email.quotes import trim_quoted
from tests.crm.inboxes.email import corpus


def test_gmail_reply_shows_only_the_new_text_and_keeps_the_history():
    parsed = parse_message(corpus.gmail_reply())

    assert parsed.text_display == "Thanks, it works again!"
    assert "> Please restart the printer." in parsed.text


def test_outlook_reply_is_cut_at_its_header_block():
    parsed = parse_message(corpus.outlook_reply())

    assert parsed.text_display == "Still broken, see the photo."
    assert "Sent: Monday, June 3, 2024" in parsed.text


def test_outlook_original_message_separator_is_cut():
    assert parse_message(corpus.outlook_original_message_reply()).text_display == "Danke!"


def test_html_only_reply_with_blockquote_is_trimmed_like_text():
    mail = corpus.message(body="")
    mail.set_content(
        "<div>Yes, tomorrow is fine.</div><div class=gmail_quote>On Mon, Support wrote:<br>"
        "<blockquote class=gmail_quote>Shall we come tomorrow?</blockquote></div>",
        subtype="html",
    )

    parsed = parse_message(mail.as_bytes())

    assert parsed.text_display == "Yes, tomorrow is fine."
    assert "> Shall we come tomorrow?" in parsed.text


def test_inline_answers_between_quotes_are_kept():
    text = "> Which model?\nThe X200.\n> Since when?\nSince Monday."

    assert trim_quoted(text) == "The X200.\nSince Monday."


def test_a_sentence_ending_in_wrote_is_not_an_attribution():
    text = "My colleague wrote:\nthe invoice is wrong, please fix it."

    assert trim_quoted(text) == text


def test_text_that_is_only_a_quote_is_shown_whole():
    assert trim_quoted("> just the old text") == "> just the old text"


def test_german_attribution_is_cut():
    text = "Passt.\n\nAm 03.06.2024 um 10:00 schrieb Acme Support <support@acme.test>:\n> Passt es morgen?"

    assert trim_quoted(text) == "Passt."


def test_sanitiser_keeps_layout_and_drops_every_active_part():
    dirty = (
        '<table border=1><tr><td style="color: red; position: fixed">cell</td></tr></table>line<br>break'
        '<img src="https://tracker.example/p.gif" onerror="steal()"><svg onload=alert(1)><circle/></svg>'
        '<a href="JaVaScRiPt:alert(1)">x</a><iframe src="https://evil.example"></iframe><form><input></form>'
    )

    clean = sanitize_html(dirty)

    assert '<table border="1"><tbody><tr><td style="color:red">cell</td></tr></tbody></table>' in clean
    assert "line<br>break" in clean
    for gone in ("onerror", "steal", "svg", "onload", "javascript", "iframe", "evil", "position", "<input"):
        assert gone not in clean.lower()


def test_html_to_text_keeps_links_lists_and_cells():
    text = html_to_text(
        '<p>See <a href="https://acme.test/kb/1">the article</a>.</p><ul><li>one</li><li>two</li></ul>'
        "<table><tr><td>A</td><td>B</td></tr></table>"
    )

    assert text == "See the article <https://acme.test/kb/1>.\n\n- one\n- two\n\nA B"
