"""Answers with the versions the image holds: the lock's, if pyslim honoured it."""

from importlib.metadata import version

from flask import Flask

app = Flask(__name__)


@app.get("/")
def versions():
    return {name: version(name) for name in ("flask", "werkzeug", "gunicorn")}
