"""The staff web page: ``comment-guard serve`` shows the archive read-only on Datasette.

``metadata.yaml`` is the shipped configuration (canned queries, facets, descriptions, links
between rows); ``server.py`` opens the archive read-only and decides who may see it;
``plugin.py`` renders the declared links.
"""
