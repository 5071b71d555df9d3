"""`python -m mesoclinic`: the `mesoclinic` command (e.g. `python -X importtime -m mesoclinic
--help` to see what starting the command line imports)."""

from mesoclinic.cli import main

if __name__ == "__main__":
    main()
