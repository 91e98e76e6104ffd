"""WSDL 1.1 loading (``loader.load_model``): documents found offline first, read into the service model."""
