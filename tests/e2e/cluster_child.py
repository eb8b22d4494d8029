"""Child process for test_cluster: a head and a second Ray node on this machine; the second is lost mid-run.

Runs apart from pytest because Ray must start before usearch is loaded in a process
(see core/cluster.py: connect). Prints one JSON line: what the run reported.
"""

from __future__ import annotations

import json
import sys
import threading

from ray.cluster_utils import Cluster

from reelseek.core.cluster import ClusterConfig
from reelseek.core.library import Library


def main() -> int:
    home, footage = sys.argv[1], sys.argv[2]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    second = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    seen: set[str] = set()
    lost = threading.Event()
    losing: list[threading.Thread] = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        seen.update(n for n, _ in p.nodes)
        if p.files_done >= 1 and not lost.is_set():
            lost.set()  # lose the second node while files are still out on it
            t = threading.Thread(target=cluster.remove_node, args=(second,), daemon=True)
            t.start()
            losing.append(t)

    lib = Library(home, model_id="reelseek-test-tiny")
    try:
        report = lib.index([footage], progress=progress, cluster=ClusterConfig(address=cluster.address))
    finally:
        lib.close()
        for t in losing:
            t.join(timeout=120)
        import ray

        ray.shutdown()  # the driver leaves first: Ray refuses to remove the node it is attached to
        cluster.shutdown()
    print(
        json.dumps(
            {
                "indexed": report.indexed,
                "errors": report.errors,
                "nodes_seen": len(seen),
                "node_lost": lost.is_set(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
