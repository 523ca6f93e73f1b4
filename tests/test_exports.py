"""config.exports: the one CSV writer of the product makes formulas inert and leaves numbers alone."""

import csv
import io
from decimal import Decimal

import pytest

from config.exports import csv_lines, csv_writer, inert_cell


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "+1 555 0100", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "\n=1+1", "-", "=", "- note"],
)
def test_text_that_a_spreadsheet_would_evaluate_gets_a_quote(text):
    assert inert_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-3, -3.5, Decimal("-0.25"), 0, True, "-3.5", "+7", "-1e-3", ".5", "42"])
def test_numbers_and_numeric_strings_stay_as_they_are(value):
    assert inert_cell(value) == value


@pytest.mark.parametrize("text", ["billing", "", "a=b", "x-1", "it's", "1+1"])
def test_harmless_text_is_unchanged(text):
    assert inert_cell(text) == text


def test_none_is_an_empty_cell_and_other_objects_are_checked_as_text():
    class Name:
        def __str__(self):
            return "=1+1"

    assert inert_cell(None) == ""
    assert inert_cell(Name()) == "'=1+1"


def test_the_writer_and_the_streamed_lines_parse_back_to_the_inert_cells():
    buffer = io.StringIO()
    csv_writer(buffer).writerows([["=cmd", -1.5, None]])
    streamed = "".join(csv_lines(["name", "score"], [{"name": "@me", "score": Decimal("-2")}]))

    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [["'=cmd", "-1.5", ""]]
    assert streamed.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(streamed.removeprefix("\ufeff")))) == [["name", "score"], ["'@me", "-2"]]
