"""Private endpoints check their caller in the app: deployed, only a Google-signed OIDC token of our invoker account
for one of our URLs passes; locally the dispatcher's shared secret. Google's certificate endpoint is stood in for by
a local server publishing our test key, so signatures are really verified."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import flask
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt
from google.auth import jwt as google_jwt
from werkzeug.serving import make_server

from aiadmin.core import caller_auth
from aiadmin.core.errors import Forbidden, Unauthorized
from aiadmin.core.settings import Settings

INVOKER = "aiadmin-invoker@aiadmin-prod.iam.gserviceaccount.com"
FUNCTIONS = "https://europe-west1-aiadmin-prod.cloudfunctions.net"


def _key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


GOOGLE_KEY, GOOGLE_PUBLIC = _key()
OTHER_KEY, _ = _key()


@pytest.fixture(scope="module")
def certs_url() -> Iterator[str]:
    app = flask.Flask("google-certs-standin")
    app.get("/certs")(lambda: {"k1": GOOGLE_PUBLIC})
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


@pytest.fixture
def deployed(certs_url: str) -> Settings:
    caller_auth._certs.update(url=None, certs=None)
    return Settings(
        env="prod", tasks_service_account=INVOKER, tasks_target_base_url=FUNCTIONS, oidc_certs_url=certs_url
    )


def token(key: str = GOOGLE_KEY, kid: str = "k1", **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": f"{FUNCTIONS}/sync_worker",
        "email": INVOKER,
        "email_verified": True,
        "iat": now,
        "exp": now + 600,
        "sub": "1234",
        **claims,
    }
    return google_jwt.encode(crypt.RSASigner.from_string(key, kid), payload).decode()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def _functions_main():
    import importlib.util
    import sys

    from tests.conftest import ROOT

    if "main" not in sys.modules:
        spec = importlib.util.spec_from_file_location("main", ROOT / "functions" / "main.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["main"] = module
        spec.loader.exec_module(module)
    return sys.modules["main"]


def test_our_invokers_token_for_our_function_passes(deployed):
    claims = caller_auth.verify_caller(bearer(token()), deployed, FUNCTIONS)
    assert claims["email"] == INVOKER


# Tokens are made when the test runs, not when it is collected: a long suite must not see them expire.
@pytest.mark.parametrize(
    ("headers", "error"),
    [
        (lambda: {}, Unauthorized),
        (lambda: {"X-AIAdmin-Task-Secret": "a local secret is no credential when deployed"}, Unauthorized),
        (lambda: bearer("not-a-jwt"), Unauthorized),
        (lambda: bearer(token(key=OTHER_KEY)), Unauthorized),  # signed by someone else under our key id
        (lambda: bearer(token(kid="unknown")), Unauthorized),
        (lambda: bearer(token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)), Unauthorized),
        (lambda: bearer(token(iss="https://evil.example")), Unauthorized),
        (lambda: bearer(token(email="someone@else.iam.gserviceaccount.com")), Forbidden),
        (lambda: bearer(token(email_verified=False)), Forbidden),
        (lambda: bearer(token(aud="https://europe-west1-another-project.cloudfunctions.net/sync_worker")), Forbidden),
    ],
    ids=[
        "no-token",
        "secret-only",
        "garbage",
        "foreign-signature",
        "unknown-key",
        "expired",
        "foreign-issuer",
        "another-account",
        "unverified-email",
        "another-audience",
    ],
)
def test_anything_else_is_refused_when_deployed(deployed, headers, error):
    with pytest.raises(error):
        caller_auth.verify_caller(headers(), deployed, FUNCTIONS)


def test_a_task_handler_refuses_an_unauthenticated_call_in_production_mode(deployed, monkeypatch):
    """The real entry point, as Cloud Run would hand it a request that slipped past IAM."""
    main = _functions_main()
    monkeypatch.setattr("aiadmin.core.http.get_settings", lambda: deployed)
    app = flask.Flask("functions")
    body = {"salon_id": 962302, "module": "services", "slot": "x"}
    for headers in ({}, bearer(token(email="intruder@evil.iam.gserviceaccount.com"))):
        with app.test_request_context("/sync_worker", method="POST", json=body, headers=headers):
            resp = main.sync_worker(flask.request)
        assert resp.status_code in (401, 403), resp.get_data(as_text=True)


def test_the_session_hosts_api_refuses_a_call_without_our_token_when_deployed(deployed):
    from session_host.http_api import create_app

    class Host:  # only /healthz reads the host; /send is refused before it is reached
        listening = threading.Event()
        driver = None

    host_settings = deployed.model_copy(update={"session_host_url": "https://aiadmin-host-abc.a.run.app"})
    client = create_app(Host(), secret="", sender=None, deployed=host_settings).test_client()  # type: ignore[arg-type]
    assert client.post("/send", json={}).status_code == 401
    wrong_audience = bearer(token(aud="https://elsewhere.a.run.app"))
    assert client.post("/send", json={}, headers=wrong_audience).status_code == 403
    ours = bearer(token(aud="https://aiadmin-host-abc.a.run.app"))
    assert client.post("/send", json={}, headers=ours).status_code == 503, "past the check: sending is disabled here"
    # Without its own URL the host cannot tell a token for itself from one for any other service: it takes none.
    unset = create_app(Host(), secret="", sender=None, deployed=deployed.model_copy(update={"session_host_url": None}))
    assert unset.test_client().post("/send", json={}, headers=ours).status_code == 503


def test_the_default_is_production_and_the_simulator_refuses_to_run_there(monkeypatch):
    from aiadmin.core.errors import ConfigurationError
    from session_host.drivers import make_driver

    monkeypatch.delenv("ENV", raising=False)
    assert Settings().env == "prod"
    with pytest.raises(ConfigurationError):
        make_driver(Settings(whatsapp_driver="simulated", env="dev"), lambda sid, ev: None)
