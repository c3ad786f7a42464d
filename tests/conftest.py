"""Fixtures shared by several test folders."""

import pytest


@pytest.fixture(scope="module")
def cluster_client():
    """A dask.distributed client on a LocalCluster of two worker processes on
    127.0.0.1, shut down after the module's tests; skips without distributed."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
