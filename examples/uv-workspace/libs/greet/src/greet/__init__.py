"""A library of the workspace, installed from its directory as the lock says."""

from markupsafe import escape


def greeting(name):
    return f"Hello, {escape(name)}, from a uv workspace"
