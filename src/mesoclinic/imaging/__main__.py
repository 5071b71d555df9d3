"""`python -m mesoclinic.imaging PATH...`: the analyze command on its own."""

import typer

from mesoclinic.imaging.cli import analyze


def main() -> None:
    """Run the analyze command as a stand-alone program."""
    typer.run(analyze)


if __name__ == "__main__":
    main()
