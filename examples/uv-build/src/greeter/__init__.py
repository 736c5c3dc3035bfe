import six


def main() -> None:
    print(f"Hello from a uv_build package (six {six.__version__})")
