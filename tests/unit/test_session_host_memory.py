"""What the session host keeps in memory stays bounded however long it runs."""

from session_host.sessions import SeenIds


def test_the_commands_a_host_remembers_are_the_newest_and_bounded():
    seen = SeenIds(limit=3)
    for i in range(5):
        seen.add(f"cmd-{i}")
    assert "cmd-4" in seen and "cmd-2" in seen
    assert "cmd-0" not in seen and "cmd-1" not in seen
    assert len(seen._ids) == 3
