from flask import Flask, render_template

app = Flask(__name__)


@app.get("/")
def index():
    return render_template("index.txt", where=__file__)


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
