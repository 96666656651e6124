"""Helpers shared by the other packages: registries, configuration, run directories, images."""
