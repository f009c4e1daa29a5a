"""Built-in analysis descriptions (``<name>.yaml``) and their functions (``<name>.py``)."""
