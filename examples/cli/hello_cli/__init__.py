import click


@click.command()
@click.argument("name", default="pyslim")
def main(name):
    """Greets NAME."""
    click.echo(f"Hello, {name}! (installed by setup.py, run from PATH)")
