"""What logs and reports show of a study's storage: never a database password."""

from __future__ import annotations

from excolor.study_storage import shown


def test_shown_hides_a_database_password_only():
    assert (
        shown("postgresql+psycopg://excolor:s3cret@127.0.0.1:55432/excolor")
        == "postgresql+psycopg://excolor:***@127.0.0.1:55432/excolor"
    )
    assert (
        shown("postgresql+psycopg://excolor@127.0.0.1:55432/excolor")
        == "postgresql+psycopg://excolor@127.0.0.1:55432/excolor"
    )
    assert shown("sqlite:///optuna.db") == "sqlite:///optuna.db"
    assert shown("optuna.journal") == "optuna.journal"
