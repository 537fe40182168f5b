import pytest

from integration_models.data.numbers import MARKERS, CellError, parse_cell, parse_cells


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.5", 12.5),
        ("0", 0.0),
        ("0.0", 0.0),
        ("0e5", 0.0),
        ("-0.000e-999", 0.0),
        ("-3", -3.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("+7.", 7.0),
    ],
)
def test_numbers_parse(text, expected):
    assert parse_cell(text).number == expected


@pytest.mark.parametrize("marker", sorted(MARKERS) + ["DNA", "N/A", "C"])
def test_markers_are_missing_with_reason(marker):
    cell = parse_cell(marker)
    assert cell.number is None
    assert f"'{marker}'" in cell.missing_reason


def test_empty_is_missing():
    assert parse_cell("").missing_reason == "missing: empty value"


@pytest.mark.parametrize("text", ["12,5", "abc", "NaN", "nan", "inf", "-Infinity", "1 000", "5%"])
def test_not_a_number_is_refused(text):
    with pytest.raises(ValueError, match="neither a number nor a known suppression marker"):
        parse_cell(text)


def test_overflow_is_refused():
    with pytest.raises(ValueError, match="not a finite number"):
        parse_cell("1e999")


@pytest.mark.parametrize("text", ["1e-400", "2e-324", "-0.001e-399"])
def test_underflow_is_refused(text):
    """A nonzero number too small for a float would silently become 0."""
    with pytest.raises(ValueError, match="not zero but too small for a number"):
        parse_cell(text)


@pytest.mark.parametrize("text", ["1e999", "1e-400"])
def test_column_parser_refuses_what_the_cell_parser_refuses(text):
    with pytest.raises(CellError, match=text) as info:
        parse_cells(["0", "1", text, "0e5"])
    assert info.value.index == 2
