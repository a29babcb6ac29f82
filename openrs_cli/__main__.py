"""`python -m openrs_cli` runs the command-line tool."""

from openrs_cli.cli.app import main

if __name__ == "__main__":
    main()
