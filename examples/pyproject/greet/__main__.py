import click
import six

print(f"greet OK: six {six.__version__}, click {click.__version__}")
