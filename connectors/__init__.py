"""One package per tracker, each built from the same files, so a job is found under the same name in
every tracker (and its tests under ``tests/connectors/<tracker>/test_<file>.py``):

=================  =====================================================================================
``client.py``      the only module importing the vendor SDK: requests, their counting, and the vendor's
                   errors mapped to ours (no credentials in them)
``parse.py``       pure: the tracker's records (listings, single fetches, webhook bodies) as ``WorkItem``
``webhook.py``     pure: verify a delivery's signature and turn its body into webhook events
``connector.py``   the tracker as a ``Connector`` (discovery, pages, census, single fetches), and the
                   ``VocabularyWriter`` and ``TagWriter`` made of the three files below
``vocabulary.py``  provisioning: read and change the choices that offer the plan's values and methods
                   (Jira select options, Asana enum options, Linear labels of the Value / Method groups)
``tags.py``        ``write_tags``: write inferred values and methods onto items
``links.py``       ``write_links``: the link from each item to its explanation page, all of it
=================  =====================================================================================

A file beyond these is named for its one job and shared by the files above it: Asana's
``batch.py`` (the Batch API that tags and links send through), Linear's ``targets.py`` (which ids
are live issues a write can reach) and ``aliases.py`` (several mutation copies in one request,
for the client). What every tracker shares sits beside ``base.py``: paging, retries, error mapping,
signatures.
"""

if __name__ != "v2mom.connectors":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.connectors, not {__name__}: the top-level folders are v2mom subpackages")
