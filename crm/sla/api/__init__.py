"""The REST API of SLA policies (``/api/v1/sla-policies/``) and business-hours calendars
(``/api/v1/business-hours/``)."""
