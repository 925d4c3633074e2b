"""Every error code the API can answer is in the README's "Error codes" table, and every code the
table lists is still answered: the codes are read from the source (tests/support/error_codes.py),
so neither side can drift."""

from __future__ import annotations

from tests.support.error_codes import codes_in_source, documented_codes


def test_every_code_in_the_source_is_documented():
    found = codes_in_source()
    undocumented = {code: sorted(files) for code, files in found.codes.items() if code not in documented_codes()}
    assert not undocumented, f"codes missing from README.md's Error codes table: {undocumented}"


def test_every_documented_code_is_still_answered():
    stale = set(documented_codes()) - set(codes_in_source().codes)
    assert not stale, f"README.md documents codes nothing answers any more: {sorted(stale)}"


def test_computed_codes_only_pass_on_a_code_chosen_elsewhere():
    # ``APIError(error.code, …)`` forwards a library error's class code, which the scan reads from
    # the class. Any other computed code would escape the scan: write it as a literal instead.
    found = codes_in_source()
    computed = sorted(where for where in found.passthrough if not where.endswith(".code"))
    assert not computed, f"error codes the scan cannot read: {computed}"


def test_the_scan_sees_every_kind_of_source():
    # One code from each way of choosing one, so a scan that silently finds nothing fails here.
    codes = codes_in_source().codes
    for code in (
        "unknown_action",  # ActionRequestError (pipeline)
        "invalid_filter",  # APIError (views)
        "unsupported_media_type",  # DRF exception mapping
        "disallowed_host",  # Django's error views
        "token_audience_not_allowed",  # AuthError
        "empty_document",  # JobFailure
        "model_timeout",  # the model gateway's constants
        "docs_collaboration_locked",  # Docs error classes
        "invalid_block_props",  # BlockNote error classes
        "worker_lost",  # services.fail
    ):
        assert code in codes, code
    # Base classes only their subclasses stand for answer no code of their own.
    assert "docs_error" not in codes and "blocknote_error" not in codes


def test_the_table_is_found_and_well_formed():
    documented = documented_codes()
    assert len(documented) >= 60
    for code, status in documented.items():
        assert status == "job" or status.isdigit(), (code, status)
