"""The local gateway routes exactly by web/firebase.json, the file production Hosting uses."""

import pytest

from devstack.gateway import Gateway, discover_entry_points, glob_to_regex


@pytest.fixture(scope="module")
def gateway():
    return Gateway()


@pytest.mark.parametrize(
    ("path", "function"),
    [
        ("/auth/yclients/redirect", "registration_redirect"),
        ("/marketplace/activate", "activate"),
        ("/marketplace/health", "health"),
        ("/webhook/yclients", "lifecycle_webhook"),
        ("/webhook/yclients/962302/abc", "data_webhook"),
    ],
)
def test_public_paths_reach_their_functions(gateway, path, function):
    assert gateway.resolve(path) == ("function", function)


def test_onboarding_path_serves_the_page_and_unknown_paths_nothing(gateway):
    kind, target = gateway.resolve("/marketplace/onboarding")
    assert kind == "static" and target.name == "onboarding.html"
    assert gateway.resolve("/webhook_worker") == ("none", None)


def test_every_http_entry_point_is_discovered():
    assert set(discover_entry_points()) >= {
        "registration_redirect",
        "activate",
        "lifecycle_webhook",
        "data_webhook",
        "health",
        "webhook_worker",
        "post_activation_worker",
    }


def test_globs_follow_hosting_semantics():
    assert glob_to_regex("/a/**").match("/a/b/c")
    assert not glob_to_regex("/a/*").match("/a/b/c")
    assert glob_to_regex("/a/*").match("/a/b")
