"""The workspace's web service: it answers with its workspace neighbour's greeting."""

from flask import Flask
from greet import greeting

app = Flask(__name__)


@app.get("/")
def hello():
    return greeting("workspace")
