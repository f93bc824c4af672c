"""``python -m hubopt``: the same as the ``hubopt`` command."""

from hubopt.cli import main

if __name__ == "__main__":
    main()
