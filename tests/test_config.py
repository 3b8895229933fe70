from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from townsquare.config import Settings


@pytest.mark.parametrize("environment", ["production", "test"])
@pytest.mark.parametrize(
    "secret",
    [None, "changeme", "CHANGEME", "secret", "too-short-but-random-Xy7", "your-secret-key"],
)
def test_outside_development_a_weak_secret_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, environment: str, secret: str | None
) -> None:
    monkeypatch.setenv("TOWNSQUARE_ENVIRONMENT", environment)
    if secret is None:
        monkeypatch.delenv("TOWNSQUARE_AUTH__JWT_SECRET", raising=False)
    else:
        monkeypatch.setenv("TOWNSQUARE_AUTH__JWT_SECRET", secret)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings()


@pytest.mark.parametrize(
    "broken", [{"TOWNSQUARE_DB__ECHO": "true"}, {"TOWNSQUARE_AUTH__JWT_SECRET": "ReallyRealButShort123"}]
)
def test_a_refusal_to_start_does_not_print_the_secret(monkeypatch: pytest.MonkeyPatch, broken: dict[str, str]) -> None:
    secret = "s3cr3t-" + "Zq8" * 15
    monkeypatch.setenv("TOWNSQUARE_ENVIRONMENT", "production")
    monkeypatch.setenv("TOWNSQUARE_AUTH__JWT_SECRET", secret)
    for name, value in broken.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert secret[-12:] not in message
    assert "RealButShort" not in message


def test_a_strong_secret_is_accepted_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "k" * 10 + "a-long-random-looking-secret-value-0123456789"
    monkeypatch.setenv("TOWNSQUARE_ENVIRONMENT", "production")
    monkeypatch.setenv("TOWNSQUARE_AUTH__JWT_SECRET", secret)
    assert Settings().jwt_secret() == secret


def test_development_generates_a_secret_once_and_keeps_it_private(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TOWNSQUARE_AUTH__JWT_SECRET", raising=False)
    monkeypatch.setenv("TOWNSQUARE_ENVIRONMENT", "development")
    monkeypatch.setenv("TOWNSQUARE_DATA_DIR", str(tmp_path))
    first = Settings().jwt_secret()
    assert len(first) >= 32
    assert Settings().jwt_secret() == first  # the same after a restart
    mode = stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode)
    assert mode == 0o600


def test_nested_settings_and_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/app")
    monkeypatch.setenv("TOWNSQUARE_SERVER__PORT", "9000")
    monkeypatch.setenv("TOWNSQUARE_AUTH__ACCESS_TOKEN_TTL_SECONDS", "600")
    settings = Settings()
    assert settings.database_url == "postgresql://db.example/app"
    assert settings.server.port == 9000
    assert settings.auth.access_token_ttl_seconds == 600


def test_argon2_cost_cannot_go_below_owasp_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWNSQUARE_AUTH__ARGON2_MEMORY_KIB", "1024")
    with pytest.raises(ValidationError):
        Settings()
