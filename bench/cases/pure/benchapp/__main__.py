import flask, gunicorn

print("OK")
