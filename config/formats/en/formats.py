"""English dates as the product always showed them (ISO day, 24-hour clock); German and Spanish use Django's own
formats (04.12.2026 / 04/12/2026). Templates name the format (SHORT_DATE_FORMAT...), never a pattern."""

SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
