"""``python -m paperwire``: the same as the ``paperwire`` command."""

from paperwire.cli import main

if __name__ == "__main__":
    main()
