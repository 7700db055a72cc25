

__all__: list[str] = []  # nothing here: import the modules
